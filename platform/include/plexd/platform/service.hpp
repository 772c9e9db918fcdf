// Service manager primitives: register, remove, start, stop, reload and
// query a system service that runs this executable, and the entry point
// the service manager calls. Windows implements them with the Service
// Control Manager; elsewhere systemd does that job, so every call reports
// service_error::unsupported. The `plexd service` verb, its messages and
// its config lookup live in the daemon.
#pragma once

#include <functional>
#include <string>

namespace plexd::platform {

enum class service_error {
  none,
  unsupported,    // no service manager driven by plexd on this system
  access_denied,  // needs an elevated prompt
  not_installed,
  exists,              // a service of that name is already registered
  display_name_taken,  // another service uses the display name
  marked_for_delete,
  disabled,
  not_running,
  already_running,
  busy,       // starting or stopping: cannot take this control now
  timed_out,  // did not settle in time (see the status)
  other,      // see service_result::detail
};

struct service_result {
  service_error error = service_error::none;
  std::string detail;  // the system's text for `other`
  bool ok() const { return error == service_error::none; }
};

enum class service_state {
  stopped,
  start_pending,
  stop_pending,
  running,
  continue_pending,
  pause_pending,
  paused,
  unknown
};
enum class service_start_type { automatic, manual, disabled, other };

struct service_status {
  service_state state = service_state::unknown;
  unsigned long pid = 0;
  /// Why it last stopped, "" for a clean stop: "plexd exited with code N"
  /// or the system's error text.
  std::string exit_reason;
  service_start_type start_type = service_start_type::other;
  std::string account;  // e.g. "NT SERVICE\plexd"
  std::string command;  // the registered command line
};

struct service_spec {
  std::string name;         // letters, digits, '-' and '_' (see valid_service_name)
  std::string config_path;  // absolute: the service starts in the system directory
};

/// True where `plexd service` drives a service manager (Windows).
bool service_manager_available();

/// Names the service manager accepts and plexd can put on a command line.
bool valid_service_name(const std::string& name);

/// "RUNNING", "STOPPED", ...
const char* service_state_name(service_state state);

/// Registers the service (automatic start, restart after a crash) to run
/// `"<this exe>" service-run --name NAME -c "<config>"` under its own
/// least-privileged account, which is returned in `account`.
service_result install_service(const service_spec& spec, std::string& account);

/// Starts it and waits until it is running or has stopped again; `status`
/// tells which (and why it stopped).
service_result start_service(const std::string& name, service_status& status);

/// Stops it and waits for the drain to end. not_running if it was stopped.
service_result stop_service(const std::string& name, service_status& status);

/// Stops it if it runs, then removes it.
service_result uninstall_service(const std::string& name);

/// Asks the running service to re-read its config (does not wait).
service_result reload_service(const std::string& name);

service_result query_service(const std::string& name, service_status& status);

/// Registers (or removes) the system log source NAME for this executable's
/// message table. "" or the reason it failed.
std::string register_event_source(const std::string& name);
void unregister_event_source(const std::string& name);

/// The service wrapper's own log file for service NAME.
std::string service_log_path(const std::string& name);

/// Entry used when the service manager starts the binary as a service
/// (hidden verb `service-run`): registers with the manager and calls
/// `run_daemon`, which returns the daemon's exit code.
int run_as_service(const std::string& name, const std::function<int()>& run_daemon);

}  // namespace plexd::platform
