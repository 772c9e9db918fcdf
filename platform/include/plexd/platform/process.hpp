// Process-level operations.
#pragma once

#include <string>

namespace plexd::platform {

/// Switches to `user` when running as root (POSIX). Returns an error
/// message, or "" on success or when nothing had to be done.
std::string drop_privileges(const std::string& user);

/// The process id.
long current_pid();

}  // namespace plexd::platform
