#include "plexd/platform/process.hpp"

#include <windows.h>

namespace plexd::platform {

// Windows has no setuid: the service account (NT SERVICE\NAME, chosen at
// `plexd service install`) is what limits the daemon's rights.
std::string drop_privileges(const std::string&) {
  return {};
}

// Nothing to hand over: the pipe's security descriptor names who may use it.
std::string hand_over(const std::string&, const std::string&) {
  return {};
}

long current_pid() {
  return static_cast<long>(::GetCurrentProcessId());
}

}  // namespace plexd::platform
