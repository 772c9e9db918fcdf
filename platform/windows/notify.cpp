// The SCM status when running as a Windows service: START_PENDING (set by
// ServiceMain) until every listener is bound, RUNNING on notify_ready,
// STOP_PENDING on notify_stopping. Outside a service every call is a no-op.
#include "plexd/platform/notify.hpp"

#include "service_state.hpp"

namespace plexd::platform {

void notify_ready(std::string_view) {
  svc::report(SERVICE_RUNNING);
}

// The SCM shows no status text; `plexd status` through the pipe does.
void notify_status(std::string_view) {}

// Windows has no "reloading" state: the service stays RUNNING.
void notify_reloading() {}

// The drain takes up to shutdown_grace; the checkpoint keeps moving while
// it lasts, so the hint only has to cover one step.
void notify_stopping() {
  svc::report(SERVICE_STOP_PENDING, 10000);
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  return std::nullopt;
}

void notify_watchdog() {}

}  // namespace plexd::platform
