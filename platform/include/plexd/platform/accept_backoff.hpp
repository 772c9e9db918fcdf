// What every acceptor does when accept() fails because the process or the
// system is out of descriptors (or buffers): the listening socket stays
// readable, so retrying at once would spin a core. Instead: log once per
// episode, retry after 50 ms, doubling up to 1 s, and log when it ends.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <asio/error_code.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

namespace plexd::platform {

class accept_backoff {
 public:
  /// `what` names the acceptor in the log, e.g. "listener echo".
  accept_backoff(asio::io_context& io, std::string what);

  /// After a failed accept. True when `ec` is resource exhaustion: `retry`
  /// then runs after the back-off delay (never, if cancel() comes first).
  /// False for any other error, which is the caller's to handle. `retry`
  /// must keep alive whatever it touches (a shared_ptr, not `this`).
  bool defer(const asio::error_code& ec, std::function<void()> retry);
  /// After a successful accept: ends an episode and resets the delay.
  void succeeded();
  /// Drops a pending retry (the acceptor is closing).
  void cancel();

 private:
  asio::steady_timer timer_;
  std::string what_;
  std::chrono::milliseconds delay_{0};
  bool exhausted_ = false;
};

}  // namespace plexd::platform
