#include "plexd/platform/process.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "socket_path.hpp"

namespace plexd::platform {

std::string drop_privileges(const std::string& user) {
  if (user.empty() || ::geteuid() != 0) return {};
  const passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) return "no such user '" + user + "'";
  // Order matters: supplementary groups and gid while still root, uid last.
  if (::setgroups(0, nullptr) != 0 || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) {
    return "cannot switch to user '" + user + "': " + std::strerror(errno);
  }
  if (::setuid(0) == 0) return "privileges could be regained after switching to '" + user + "'";
  return {};
}

std::string hand_over(const std::string& path, const std::string& user) {
  if (user.empty() || path.empty() || ::geteuid() != 0) return {};
  // A directory plexd did not create (/tmp, /run, an operator's) is shared
  // with others: giving it away would hand them the whole directory.
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "cannot give " + path + " to '" + user + "': " + std::strerror(errno);
  if (S_ISDIR(st.st_mode) && !detail::created_socket_dir(path)) return {};
  const passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) return "no such user '" + user + "'";
  if (::lchown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return "cannot give " + path + " to '" + user + "': " + std::strerror(errno);
  }
  return {};
}

long current_pid() {
  return static_cast<long>(::getpid());
}

}  // namespace plexd::platform
