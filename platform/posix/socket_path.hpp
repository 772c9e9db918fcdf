// Private to platform/posix: the file-system side of a Unix control socket.
// A daemon often runs as root, so every step must leave directories it did
// not create exactly as they were and never remove a file that is not its own
// socket.
#pragma once

#include <sys/types.h>

#include <string>

namespace plexd::platform::detail {

/// The identity of a file, to recognise our own socket at removal time.
struct file_id {
  dev_t dev = 0;
  ino_t ino = 0;
};

/// Makes `path` ready for bind(): its directory exists and is safe (created
/// by us with mode 0750, or an existing real directory we own that others
/// cannot write to, or can write to only with the sticky bit set), and the
/// path is free: a stale socket (nobody answers) is removed; a live socket,
/// a symbolic link or any other file is refused. Returns "" or an error
/// naming the path.
std::string prepare_socket_path(const std::string& path);

/// The identity of the socket just bound at `path` (zeros if it is gone).
file_id socket_file_id(const std::string& path);

/// Removes `path` only if it is still the socket identified by `id`.
void remove_own_socket(const std::string& path, const file_id& id);

/// True if this process created directory `dir` for a control socket: only
/// such a directory may be handed over to another user.
bool created_socket_dir(const std::string& dir);

/// Client side: "" if the socket at `path` may be trusted with commands, else
/// why not. Trusted: a socket owned by us or root, or by the owner of its
/// directory when that directory could only have been made by its owner
/// (its parent is not writable by others, unlike /tmp).
std::string check_socket_owner(const std::string& path);

}  // namespace plexd::platform::detail
