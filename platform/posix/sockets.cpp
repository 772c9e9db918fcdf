#include "plexd/platform/sockets.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>

#include <asio/socket_base.hpp>

namespace plexd::platform {

void prepare_listen_socket(asio::ip::tcp::acceptor& acceptor, asio::error_code& ec) {
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
}

namespace {
// systemd socket activation (sd_listen_fds(3)): LISTEN_PID must be us, the
// LISTEN_FDS descriptors start at 3, LISTEN_FDNAMES gives their names
// (FileDescriptorName=) separated by ':'. A listener takes the socket whose
// name is its own; whatever is left is reported and closed.
constexpr int first_inherited_fd = 3;

// Only a listening TCP socket can stand in for a listener's bind().
std::string unusable_reason(int fd) {
  int type = 0;
  int listening = 0;
  sockaddr_storage addr{};
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return "not a socket";
  len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "not a socket";
  if (type != SOCK_STREAM || (addr.ss_family != AF_INET && addr.ss_family != AF_INET6)) {
    return "not a TCP socket";
  }
  len = sizeof(listening);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0) {
    return "not listening";
  }
  return {};
}

struct inherited_fds {
  std::mutex mutex;
  bool parsed = false;
  std::multimap<std::string, int> by_name;
  std::vector<std::string> rejected;  // "NAME (fd N, reason)", closed already

  void parse() {
    if (parsed) return;
    parsed = true;
    const char* pid = std::getenv("LISTEN_PID");
    const char* fds = std::getenv("LISTEN_FDS");
    if (pid == nullptr || fds == nullptr) return;
    // Meant for another process (we were exec'd by a child that got them).
    if (std::strtol(pid, nullptr, 10) != static_cast<long>(::getpid())) return;
    char* end = nullptr;
    const long count = std::strtol(fds, &end, 10);
    const char* names_env = std::getenv("LISTEN_FDNAMES");
    std::string names = names_env != nullptr ? names_env : "";
    for (long i = 0; *end == '\0' && i < count && i < 4096; ++i) {
      const auto colon = names.find(':');
      std::string name = names.substr(0, colon);
      names = colon == std::string::npos ? std::string() : names.substr(colon + 1);
      // systemd names unnamed sockets "unknown" too.
      if (name.empty()) name = "unknown";
      const int fd = first_inherited_fd + static_cast<int>(i);
      // Not passed on to anything plexd might start.
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      if (auto why = unusable_reason(fd); !why.empty()) {
        std::string entry = name;
        entry.append(" (fd ").append(std::to_string(fd)).append(", ").append(why).append(")");
        rejected.push_back(std::move(entry));
        ::close(fd);
        continue;
      }
      by_name.emplace(name, fd);
    }
    // The variables describe our own descriptors; no child may act on them.
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
  }
};

inherited_fds& inherited() {
  static inherited_fds fds;
  return fds;
}
}  // namespace

std::optional<int> inherited_listener(std::string_view name) {
  auto& fds = inherited();
  std::lock_guard lock(fds.mutex);
  fds.parse();
  auto it = fds.by_name.find(std::string(name));
  if (it == fds.by_name.end()) return std::nullopt;
  const int fd = it->second;
  fds.by_name.erase(it);
  return fd;
}

std::vector<std::string> release_unclaimed_inherited() {
  auto& fds = inherited();
  std::lock_guard lock(fds.mutex);
  fds.parse();
  std::vector<std::string> names = std::move(fds.rejected);
  fds.rejected.clear();
  for (auto& [name, fd] : fds.by_name) {
    names.push_back(name + " (fd " + std::to_string(fd) + ")");
    ::close(fd);
  }
  fds.by_name.clear();
  return names;
}

std::string raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return {};
  if (lim.rlim_cur >= lim.rlim_max) {
    return "open-file limit " + std::to_string(lim.rlim_cur) + " (already the hard limit)";
  }
  const auto old = lim.rlim_cur;
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return "could not raise the open-file limit";
  return "open-file limit raised from " + std::to_string(old) + " to " + std::to_string(lim.rlim_cur);
}

connect_progress start_connect(int socket, const asio::ip::tcp::endpoint& to, asio::error_code& ec) {
  ec.clear();
  if (::connect(socket, to.data(), static_cast<socklen_t>(to.size())) == 0) return connect_progress::done;
  const int err = errno;
  if (err != EINPROGRESS && err != EINTR) {
    ec = asio::error_code(err, asio::system_category());
    return connect_progress::failed;
  }
  // A non-blocking connect() reports EINPROGRESS even when the handshake
  // finished inside the call (always so on loopback); only a connected
  // socket has a peer name.
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  if (::getpeername(socket, reinterpret_cast<sockaddr*>(&peer), &len) == 0) return connect_progress::done;
  return connect_progress::pending;
}

asio::error_code connect_error(int socket) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(socket, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  return {err, asio::system_category()};
}

bool is_resource_exhaustion(const asio::error_code& ec) {
  if (ec.category() != asio::system_category()) return false;
  const int v = ec.value();
  return v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM;
}

}  // namespace plexd::platform
