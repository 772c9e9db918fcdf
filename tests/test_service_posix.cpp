// The daemon and its service manager on POSIX: signals at awkward moments,
// sd_notify when descriptors run out. (POSIX only: tests/CMakeLists.txt
// leaves test_*_posix.cpp out on Windows.)
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "harness.hpp"

using namespace plexd::test;

namespace {

// The service manager's end of sd_notify: a datagram socket at a path.
class notify_receiver {
 public:
  explicit notify_receiver(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~notify_receiver() { ::close(fd_); }
  notify_receiver(const notify_receiver&) = delete;
  notify_receiver& operator=(const notify_receiver&) = delete;

  /// The next datagram, or "" after `timeout`.
  std::string receive(ms timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

  /// How many WATCHDOG=1 arrive within `period`.
  int count_watchdog(ms period) {
    int pings = 0;
    const auto until = std::chrono::steady_clock::now() + period;
    while (std::chrono::steady_clock::now() < until) {
      const auto left = std::chrono::duration_cast<ms>(until - std::chrono::steady_clock::now());
      if (receive(left).find("WATCHDOG=1") != std::string::npos) ++pings;
    }
    return pings;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

TEST_CASE("SIGHUP while connections drain is ignored, not fatal", "[lifecycle]") {
  plexd_daemon d(listener_toml("echo", "echo"), "[daemon]\nshutdown_grace = \"20s\"\n");
  REQUIRE(d.wait_ready());
  client held;
  REQUIRE(held.connect(d.port("echo")));
  held.send("x");
  REQUIRE(held.read_exact(1) == "x");
  d.process().request_stop();
  REQUIRE(d.wait_log("stopping"));
  // The stop drops the OS event source on the loop's next turn; a reload
  // request from then on used to find SIGHUP at its default action (exit 129).
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(d.process().send_signal(SIGHUP));
    std::this_thread::sleep_for(50ms);
  }
  CHECK_FALSE(d.process().wait_for(500ms).has_value());  // still draining the held connection
  held.close();
  const auto code = d.process().wait_for(15s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
}

TEST_CASE("watchdog pings go on when the daemon has no file descriptor left", "[lifecycle]") {
  const std::string prlimit = "/usr/bin/prlimit";
  REQUIRE(std::ifstream(prlimit).good());  // util-linux: on every Linux this suite runs on
  temp_dir dir;
  notify_receiver manager(dir.file("notify"));
  // WATCHDOG_USEC = 0.4 s: a ping every 0.2 s. No WATCHDOG_PID: any pid may ping.
  plexd_daemon d(listener_toml("echo", "echo"), "[daemon]\nthreads = 1\n",
                 {{"NOTIFY_SOCKET", manager.path()}, {"WATCHDOG_USEC", "400000"}}, {prlimit, "--nofile=64:64"});
  REQUIRE(d.wait_ready());
  CHECK(manager.count_watchdog(1500ms) >= 3);
  // Use up every descriptor: the kernel's backlog takes the connections the
  // daemon can no longer accept.
  std::vector<std::unique_ptr<client>> hogs;
  for (int i = 0; i < 80; ++i) {
    hogs.push_back(std::make_unique<client>());
    (void)hogs.back()->connect(d.port("echo"), 1s);
  }
  REQUIRE(d.wait_log("backing off"));
  while (!manager.receive(10ms).empty()) {
  }
  // 2 s at exhaustion: about 10 pings are due; a new socket per ping sent none.
  const int pings = manager.count_watchdog(2s);
  INFO("WATCHDOG=1 received in 2 s at fd exhaustion: " << pings);
  std::printf("[watchdog] WATCHDOG=1 pings received in 2 s with every descriptor taken: %d\n", pings);
  CHECK(pings >= 4);
  hogs.clear();
  CHECK(d.stop() == 0);
}
