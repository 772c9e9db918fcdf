// The PROXY protocol header a listener with accept_proxy expects before a
// connection's first byte: read without blocking a loop, at most
// proxy::max_header_size bytes, within header_timeout, before the session
// (and so the handler) starts. Each event-loop thread has its own part (its
// waiting connections and one coarse timer, armed only while some wait),
// touched only on that thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "loop_context.hpp"
#include "session.hpp"

namespace plexd::core {

class listener;

class proxy_acceptor : public std::enable_shared_from_this<proxy_acceptor> {
 public:
  using socket_type = session::socket_type;
  /// How long a new connection may take to send its whole header.
  static constexpr std::chrono::milliseconds header_timeout{5000};
  /// How often a thread with waiting connections looks for expired ones.
  static constexpr std::chrono::milliseconds sweep_period{250};

  /// `owner` outlives every connection handed to begin(): each one holds a
  /// place in its active count until it is started or closed.
  proxy_acceptor(listener& owner, loop_context& ctx);
  ~proxy_acceptor();
  proxy_acceptor(const proxy_acceptor&) = delete;
  proxy_acceptor& operator=(const proxy_acceptor&) = delete;
  proxy_acceptor(proxy_acceptor&&) = delete;
  proxy_acceptor& operator=(proxy_acceptor&&) = delete;

  /// Takes a connection just accepted for `target` from `connecting` (on the
  /// acceptor thread); the header is read on `target`'s thread.
  void begin(worker& target, socket_type socket, const asio::ip::tcp::endpoint& connecting);
  /// The listener stops accepting: connections still without a header close.
  void abort_all();

 private:
  struct pending;
  using pending_ptr = std::shared_ptr<pending>;
  struct slot;
  /// Why a connection closed before its session started.
  enum class drop_reason : std::uint8_t { invalid, truncated, timeout, gone, stopping };

  void on_readable(slot& sl, const pending_ptr& p);
  void wait(slot& sl, const pending_ptr& p);
  static bool take(pending& p, std::size_t n);
  void drop(slot& sl, const pending_ptr& p, drop_reason why, const std::string& detail);
  void log_drop(slot& sl, const pending& p, const std::string& what);
  void arm_timer(slot& sl);
  void expire(slot& sl);

  listener& owner_;
  loop_context& ctx_;
  std::vector<std::unique_ptr<slot>> slots_;  // one per worker, by index
};

}  // namespace plexd::core
