// Stop and reload requests from the operating system: POSIX signals
// (SIGINT/SIGTERM/SIGHUP), Windows console events and service controls.
#pragma once

#include <functional>
#include <memory>

#include <asio/io_context.hpp>

namespace plexd::platform {

/// Delivers the OS's stop/reload requests as callbacks on `io`'s thread.
class os_events {
 public:
  using callback = std::function<void()>;
  os_events(asio::io_context& io, callback on_stop, callback on_reload);
  ~os_events();
  os_events(const os_events&) = delete;
  os_events& operator=(const os_events&) = delete;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Makes the OS's reload request (SIGHUP) harmless while no os_events
/// listens: its default action ends the process, which a reload sent during
/// start-up or while stopping must not do. Call first thing in the daemon;
/// ~os_events restores it. A no-op where reload is not a signal.
void ignore_reload_signal();

/// Thread-safe requests from elsewhere in the process (a service control
/// handler runs on its own thread); they reach the active os_events, if any.
void request_stop();
void request_reload();

}  // namespace plexd::platform
