// Default locations, which differ per system and per user.
#pragma once

#include <string>

namespace plexd::platform {

/// /etc/plexd/plexd.toml; %ProgramData%\plexd\plexd.toml.
std::string default_config_path();

/// The control endpoint used when the config names none: a Unix socket in
/// the runtime directory on POSIX, pipe:plexd on Windows.
std::string default_control_endpoint();

/// An absolute version of `path` (services start in C:\Windows or /).
std::string absolute_path(const std::string& path);

/// Short name of the system, for --version: "linux", "windows", ...
std::string system_name();

}  // namespace plexd::platform
