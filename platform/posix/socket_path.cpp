// The file-system side of the unix: control endpoint (see socket_path.hpp).
#include "socket_path.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <algorithm>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace plexd::platform::detail {
namespace {

namespace fs = std::filesystem;

// Directories made by this process; only these may later be handed over.
// Touched at start-up only, from one thread.
std::vector<std::string>& created_dirs() {
  static std::vector<std::string> dirs;
  return dirs;
}

std::string parent_of(const std::string& path) {
  const auto dir = fs::path(path).parent_path().string();
  return dir.empty() ? std::string(".") : dir;
}

bool writable_by_others(const struct stat& st) {
  return (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

// Makes the last component of `dir` with 0750 (ancestors with the usual
// modes). Returns an errno, 0 when it was made or already exists.
int make_dir(const std::string& dir) {
  std::error_code ec;
  const auto parent = fs::path(dir).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (::mkdir(dir.c_str(), 0750) == 0) {
    created_dirs().push_back(dir);
    return 0;
  }
  return errno == EEXIST ? 0 : errno;
}

std::string check_dir(const std::string& dir) {
  if (const int err = make_dir(dir); err != 0) {
    return "cannot create the control socket directory " + dir + ": " + std::strerror(err);
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return "cannot inspect " + dir + ": " + std::strerror(errno);
  if (S_ISLNK(st.st_mode)) return "control socket directory " + dir + " is a symbolic link; not following it";
  if (!S_ISDIR(st.st_mode)) return "control socket directory " + dir + " is not a directory";
  // Someone else's directory (say one planted in /tmp) would let its owner
  // replace the socket. It is refused, never taken over or re-moded.
  if (st.st_uid != ::geteuid()) {
    return "control socket directory " + dir + " is owned by uid " + std::to_string(st.st_uid) +
           ", not by this process (uid " + std::to_string(::geteuid()) + "); refusing to use it";
  }
  // Others who may write there could swap the socket, unless the sticky bit
  // (as on /tmp) keeps them to their own files.
  if (writable_by_others(st) && (st.st_mode & S_ISVTX) == 0) {
    return "control socket directory " + dir +
           " is writable by other users (and not sticky); refusing to use it (use a directory only plexd may "
           "write to)";
  }
  return {};
}

// ECONNREFUSED: a socket file nobody listens on, left by a crashed daemon.
int probe(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = rc == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

std::string free_path(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? std::string() : "cannot inspect " + path + ": " + std::strerror(errno);
  }
  if (S_ISLNK(st.st_mode)) return "control socket path " + path + " is a symbolic link; not following or removing it";
  if (!S_ISSOCK(st.st_mode)) return "control socket path " + path + " exists and is not a socket; not removing it";
  const int err = probe(path);
  if (err == 0 || err == EAGAIN) return "control endpoint unix:" + path + " is in use by a running daemon";
  if (err != ECONNREFUSED) return "cannot check the socket " + path + ": " + std::strerror(err) + "; not removing it";
  // Still the same stale socket (not swapped meanwhile): remove it.
  struct stat again {};
  if (::lstat(path.c_str(), &again) != 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino ||
      !S_ISSOCK(again.st_mode)) {
    return "control socket path " + path + " changed while being checked; not removing it";
  }
  if (::unlink(path.c_str()) != 0) return "cannot remove the stale socket " + path + ": " + std::strerror(errno);
  return {};
}

}  // namespace

std::string prepare_socket_path(const std::string& path) {
  if (path.empty()) return "control endpoint unix: needs a path";
  if (auto error = check_dir(parent_of(path)); !error.empty()) return error;
  return free_path(path);
}

file_id socket_file_id(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino};
}

void remove_own_socket(const std::string& path, const file_id& id) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return;
  if (st.st_dev != id.dev || st.st_ino != id.ino) return;
  ::unlink(path.c_str());
}

bool created_socket_dir(const std::string& dir) {
  return std::ranges::any_of(created_dirs(), [&](const auto& d) { return d == dir; });
}

std::string check_socket_owner(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};  // connect() reports the error
  if (S_ISLNK(st.st_mode)) return "unix:" + path + " is a symbolic link; not trusting it";
  const uid_t me = ::geteuid();
  if (st.st_uid == me || st.st_uid == 0) return {};
  const auto dir = parent_of(path);
  struct stat dst {};
  struct stat gst {};
  const bool dir_ok =
      ::lstat(dir.c_str(), &dst) == 0 && S_ISDIR(dst.st_mode) && dst.st_uid == st.st_uid && !writable_by_others(dst);
  const bool parent_ok = ::stat(parent_of(dir).c_str(), &gst) == 0 && !writable_by_others(gst);
  if (dir_ok && parent_ok) return {};
  return "unix:" + path + " is owned by uid " + std::to_string(st.st_uid) +
         ", which is neither this user nor root, in a directory anyone could have made; not trusting it";
}

}  // namespace plexd::platform::detail
