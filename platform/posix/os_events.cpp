// POSIX: SIGINT/SIGTERM stop, SIGHUP reloads. Asio's signal_set turns the
// async-signal context into an ordinary completion on the loop.
#include "plexd/platform/os_events.hpp"

#include <csignal>

#include <asio/signal_set.hpp>

#include "../common/requests.hpp"

namespace plexd::platform {

struct os_events::impl {
  asio::signal_set signals;
  detail::request_target target;

  impl(asio::io_context& io, callback stop, callback reload)
      : signals(io, SIGINT, SIGTERM, SIGHUP), target{&io, std::move(stop), std::move(reload)} {
    // A client that disappears mid-write must not kill the daemon.
    std::signal(SIGPIPE, SIG_IGN);
    wait();
    detail::set_request_target(&target);
  }

  void wait() {
    signals.async_wait([this](const asio::error_code& ec, int signo) {
      if (ec) return;  // cancelled: the loop is shutting down
      if (signo == SIGHUP) {
        target.on_reload();
      } else {
        target.on_stop();
      }
      wait();
    });
  }
};

os_events::os_events(asio::io_context& io, callback on_stop, callback on_reload)
    : impl_(std::make_unique<impl>(io, std::move(on_stop), std::move(on_reload))) {}

os_events::~os_events() {
  detail::set_request_target(nullptr);
  asio::error_code ignored;
  impl_->signals.cancel(ignored);
  // The signal set gives SIGHUP back its default action (terminate) when it
  // goes; a reload sent while connections drain must not end the daemon.
  impl_.reset();
  ignore_reload_signal();
}

void ignore_reload_signal() {
  std::signal(SIGHUP, SIG_IGN);
}

}  // namespace plexd::platform
