// Readiness and liveness reporting to the service manager: sd_notify under
// systemd, the SCM status under a Windows service, nothing otherwise.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace plexd::platform {

/// Every listener is bound and the control endpoint is up.
void notify_ready(std::string_view status);
/// A one-line summary shown by `systemctl status`.
void notify_status(std::string_view status);
/// A reload starts; notify_ready() ends it.
void notify_reloading();
/// The daemon is stopping.
void notify_stopping();
/// The interval at which notify_watchdog() must be called, if a watchdog is armed.
std::optional<std::chrono::microseconds> watchdog_interval();
/// Liveness ping, sent from the event loop so that a hung loop stops it.
void notify_watchdog();

}  // namespace plexd::platform
