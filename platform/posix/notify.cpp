// sd_notify, spoken directly (one datagram per message to $NOTIFY_SOCKET),
// so plexd needs no libsystemd. Outside systemd every call is a no-op.
//
// The service manager learns the sender from the kernel (SCM_CREDENTIALS),
// and with NotifyAccess=main it only listens to the main PID: so these
// messages must come from the daemon process itself, never from a child.
#include "plexd/platform/notify.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <ctime>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace plexd::platform {
namespace {

// One socket for the life of the process, made at the first message (the
// start-up READY=1): a socket per message fails once the daemon runs out of
// file descriptors, and a watchdog that stops pinging then gets a healthy
// but busy daemon killed. Unconnected, so a restarted manager is still
// reached at its address. Messages come from the main loop only.
int notify_fd() {
  static int fd = -1;
  if (fd >= 0) return fd;
  fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fd;
  // A datagram send blocks while the manager's queue is full. These calls run
  // on the event loop, so a wedged manager may stall it for a moment at most.
  timeval timeout{};
  timeout.tv_sec = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  return fd;
}

void send_notify(const std::string& message) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  // Only AF_UNIX addresses: a filesystem path or '@' + an abstract name.
  // (Newer systemd may also pass "vsock:..." to VMs; plexd does not speak it.)
  if (path == nullptr || (path[0] != '/' && path[0] != '@') || path[1] == '\0') return;
  const std::size_t len = std::strlen(path);
  sockaddr_un addr{};
  if (len >= sizeof(addr.sun_path)) return;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path, len);
  auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  if (path[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace: the name is not NUL-terminated
  } else {
    addr_len += 1;
  }
  const int fd = notify_fd();
  if (fd < 0) return;
  // Best effort: a service manager that went away must not stop the daemon.
  (void)::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), addr_len);
}

// STATUS= is one line: the protocol separates assignments with newlines.
std::string one_line(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

unsigned long long monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL +
         static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
}
}  // namespace

void notify_ready(std::string_view status) {
  send_notify("READY=1\nSTATUS=" + one_line(status));
}

void notify_status(std::string_view status) {
  send_notify("STATUS=" + one_line(status));
}

void notify_reloading() {
  // MONOTONIC_USEC lets systemd >= 253 tell this reload from an older one;
  // older versions ignore it.
  send_notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) + "\nSTATUS=reloading");
}

void notify_stopping() {
  send_notify("STOPPING=1\nSTATUS=stopping: draining connections");
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr || usec[0] == '\0') return std::nullopt;
  // WATCHDOG_PID names the process the watchdog is meant for; a child that
  // inherited the variables must not ping on our behalf.
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid != nullptr && pid[0] != '\0') {
    char* end = nullptr;
    const long v = std::strtol(pid, &end, 10);
    if (*end != '\0' || v != static_cast<long>(::getpid())) return std::nullopt;
  }
  char* end = nullptr;
  const long long v = std::strtoll(usec, &end, 10);
  if (*end != '\0' || v <= 0) return std::nullopt;
  return std::chrono::microseconds(v);
}

void notify_watchdog() {
  send_notify("WATCHDOG=1");
}

}  // namespace plexd::platform
