// Process-level operations.
#pragma once

#include <string>

namespace plexd::platform {

/// Switches to `user` when running as root (POSIX). Returns an error
/// message, or "" on success or when nothing had to be done.
std::string drop_privileges(const std::string& user);

/// Gives `path` to `user` (owner and primary group) before privileges are
/// dropped, so the unprivileged daemon can still remove and serve it.
/// Returns an error message or "" (also when there is nothing to do).
std::string hand_over(const std::string& path, const std::string& user);

/// The process id.
long current_pid();

}  // namespace plexd::platform
