// Private to platform/: the one accept loop behind every stream endpoint
// (unix:, tcp: control, metrics). The loop lives in a shared object that
// each pending completion holds on to, so the endpoint may be closed and
// destroyed while a completion is still queued: the completion then finds
// the loop closed and does nothing. Descriptor exhaustion backs off
// (accept_backoff) instead of retrying at once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <asio/io_context.hpp>

#include "plexd/platform/accept_backoff.hpp"

namespace plexd::platform::detail {

enum class loop_state { idle, accepting, closed };

template <typename Protocol>
class accept_loop final : public std::enable_shared_from_this<accept_loop<Protocol>> {
 public:
  using acceptor_type = typename Protocol::acceptor;
  using socket_type = typename Protocol::socket;
  using handler = std::function<void(socket_type)>;

  /// `what` names the endpoint in the log.
  accept_loop(asio::io_context& io, std::string what) : acceptor_(io), backoff_(io, std::move(what)) {}

  /// For opening, binding and listening before start().
  acceptor_type& acceptor() { return acceptor_; }
  const acceptor_type& acceptor() const { return acceptor_; }

  /// `on_accept` runs on the io_context for each client, never after close().
  void start(handler on_accept) {
    if (state_ != loop_state::idle) return;
    on_accept_ = std::move(on_accept);
    state_ = loop_state::accepting;
    next();
  }

  void close() {
    state_ = loop_state::closed;
    asio::error_code ignored;
    if (acceptor_.is_open()) acceptor_.close(ignored);
    backoff_.cancel();
  }

 private:
  void next() {
    acceptor_.async_accept([self = this->shared_from_this()](const asio::error_code& ec, socket_type socket) {
      self->on_accepted(ec, std::move(socket));
    });
  }

  void on_accepted(const asio::error_code& ec, socket_type socket) {
    if (state_ != loop_state::accepting) return;
    if (ec) {
      auto retry = [self = this->shared_from_this()] {
        if (self->state_ == loop_state::accepting) self->next();
      };
      // Anything else (a client that reset while in the backlog) concerns
      // that client only: take the next one.
      if (!backoff_.defer(ec, std::move(retry))) next();
      return;
    }
    backoff_.succeeded();
    on_accept_(std::move(socket));
    if (state_ == loop_state::accepting) next();  // on_accept_ may have closed us
  }

  acceptor_type acceptor_;
  accept_backoff backoff_;
  handler on_accept_;
  loop_state state_ = loop_state::idle;
};

}  // namespace plexd::platform::detail
