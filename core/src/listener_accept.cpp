// How a listener takes connections from its listening socket: where the
// system reports readiness (POSIX), it waits until the socket is readable
// and takes the backlog with accept_ready(); where it completes accepts
// itself (Windows), through Asio's async_accept. Either way each connection
// goes on to admit().
#include <spdlog/spdlog.h>

#include "listener.hpp"
#include "plexd/platform/stream_socket.hpp"

namespace plexd::core {

using tcp = asio::ip::tcp;

void listener::do_accept() {
  if (platform::preferred_accept() == platform::accept_mode::readiness) {
    acceptor_.async_wait(tcp::acceptor::wait_read,
                         [self = shared_from_this()](const asio::error_code& ec) { self->on_acceptable(ec); });
    return;
  }
  worker& target = ctx_.pick_worker();
  // The peer's address comes with the accept: no getpeername per connection.
  acceptor_.async_accept(target.io().get_executor(), accepted_peer_,
                         [self = shared_from_this(), &target](const asio::error_code& ec, socket_type socket) {
                           self->on_accept(ec, std::move(socket), target);
                         });
}

void listener::on_acceptable(const asio::error_code& ec) {
  if (state_ != lifecycle::listening || ec == asio::error::operation_aborted) return;
  if (ec && pause_after(ec)) return;
  if (take_backlog(backlog_per_turn) == accept_turn::paused) return;
  do_accept();
}

void listener::on_accept(const asio::error_code& ec, socket_type socket, worker& target) {
  if (state_ != lifecycle::listening || ec == asio::error::operation_aborted) return;
  if (ec) {
    if (!pause_after(ec)) do_accept();
    return;
  }
  backoff_.succeeded();
  asio::error_code pec;
  platform::prepare_accepted(socket, pec);
  admit(std::move(socket), accepted_peer_, target);
  // Take what else is waiting in the backlog without another trip
  // through the reactor (accept rate for short connections).
  if (take_backlog(backlog_per_turn) == accept_turn::paused) return;
  do_accept();
}

listener::accept_turn listener::take_backlog(int most) {
  for (int i = 0; i < most && state_ == lifecycle::listening; ++i) {
    worker& next = ctx_.pick_worker();
    asio::error_code ec;
    tcp::endpoint remote;
    socket_type socket(next.io());
    platform::accept_ready(acceptor_, socket, remote, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      if (pause_after(ec)) return accept_turn::paused;
      continue;
    }
    backoff_.succeeded();
    admit(std::move(socket), remote, next);
  }
  return accept_turn::go_on;
}

bool listener::pause_after(const asio::error_code& ec) {
  auto retry = [self = shared_from_this()] {
    if (self->state_ == lifecycle::listening) self->do_accept();
  };
  if (backoff_.defer(ec, std::move(retry))) {
    stats_.errors.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  // A connection that died in the backlog (ECONNABORTED...): not ours to fix.
  spdlog::debug("listener {}: accept: {}", name_, ec.message());
  return false;
}

}  // namespace plexd::core
