// Who may touch a service's files. A service reads its config and writes
// its logs in a system-wide data directory; if an ordinary user owns that
// directory (or the config), or may create files in it, that user can feed
// the service a config or plant files it trusts. Windows implements these
// with owners and protected access-control lists; elsewhere the package
// manager and systemd set ownership, so these are not used there.
#pragma once

#include <string>

namespace plexd::platform {

/// The system-wide directory of the service's config and logs
/// (%ProgramData%\plexd on Windows); "" where there is none.
std::string service_data_dir();

/// Its `logs` subdirectory, which only the service account may write to.
std::string service_logs_dir();

enum class owner_trust {
  absent,     // the path does not exist
  trusted,    // SYSTEM, Administrators, TrustedInstaller or the current (installing) user
  untrusted,  // anybody else
  unknown,    // the owner could not be read (see path_owner::error)
};

struct path_owner {
  owner_trust trust = owner_trust::unknown;
  std::string owner;  // "DOMAIN\name", or the SID where it has no name
  std::string error;
};

/// Who owns `path`, and whether a service may trust what they put there.
path_owner inspect_owner(const std::string& path);

enum class account_access { read, modify };

/// Creates `dir` if needed and replaces its access list by a protected one
/// (nothing inherited from the parent): full control for SYSTEM and
/// Administrators, `access` for `account` (applied to everything inside),
/// and the entries other service accounts already had. "" or the reason.
std::string protect_directory(const std::string& dir, const std::string& account, account_access access);

}  // namespace plexd::platform
