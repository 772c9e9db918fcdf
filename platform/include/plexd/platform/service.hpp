// `plexd service ...`: service management. On Windows this installs and
// drives a Windows service; on Linux it explains the systemd way.
#pragma once

#include <functional>
#include <string>

namespace plexd::platform {

struct service_request {
  std::string verb;         // install | uninstall | start | stop | status
  std::string name = "plexd";
  std::string config_file;  // for install: the config the service runs with
};

/// Runs a `plexd service VERB` command. Returns the process exit code.
int service_command(const service_request& request);

/// Entry used when the service manager starts the binary as a service
/// (hidden verb `service-run`): registers with the manager and calls
/// `run_daemon`, which returns the daemon's exit code.
int run_as_service(const std::string& name, const std::function<int()>& run_daemon);

}  // namespace plexd::platform
