// The package manager and systemd (StateDirectory=, LogsDirectory=) set
// the owners and modes of plexd's directories on POSIX systems, so there
// is nothing for plexd to check or protect itself.
#include "plexd/platform/service_files.hpp"

namespace plexd::platform {

std::string service_data_dir() {
  return {};
}

std::string service_logs_dir() {
  return {};
}

path_owner inspect_owner(const std::string&) {
  path_owner result;
  result.error = "not supported on this system";
  return result;
}

std::string protect_directory(const std::string&, const std::string&, account_access) {
  return "not supported on this system";
}

}  // namespace plexd::platform
