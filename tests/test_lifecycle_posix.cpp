// What an idle daemon costs the machine, counted by the kernel: wake-ups
// of its threads (/proc, so POSIX only: tests/CMakeLists.txt leaves
// test_*_posix.cpp out on Windows).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "backplane_support.hpp"
#include "harness.hpp"

using namespace plexd::test;

namespace {

// Times any thread of `pid` gave up the CPU to wait (one per wake-up).
long wakeups_of(long pid) {
  long total = 0;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    std::ifstream in(task.path() / "status");
    for (std::string key; in >> key;) {
      if (key == "voluntary_ctxt_switches:") {
        long n = 0;
        in >> n;
        total += n;
      }
    }
  }
  return total;
}

long wakeups_during(long pid, std::chrono::milliseconds quiet) {
  const long before = wakeups_of(pid);
  std::this_thread::sleep_for(quiet);
  return wakeups_of(pid) - before;
}

// The status heartbeat (every 5 s) wakes every thread, and on a busy
// machine the window it lands in can show a few wake-ups more; the next
// 2 s cannot hold another heartbeat. The quieter of two windows is what an
// idle daemon costs; a loop that never sleeps is loud in both.
long idle_wakeups(long pid, long most) {
  const long first = wakeups_during(pid, 2s);
  return first <= most ? first : std::min(first, wakeups_during(pid, 2s));
}

}  // namespace

TEST_CASE("an idle daemon sleeps - a connection wakes its timeouts", "[lifecycle]") {
  plexd_daemon d(listener_toml("echo", "echo", "idle_timeout = \"300ms\""), "threads = 2\n");
  REQUIRE(d.wait_ready());
  const auto port = d.port("echo");
  std::this_thread::sleep_for(300ms);  // the loops' first ticks
  const long pid = d.process().pid();
  // Two event loops with a 100 ms sweep each would wake 40 times in 2 s;
  // what remains is the status heartbeat (every 5 s, probing each loop),
  // and in a sanitized build the sanitizer's own thread (ThreadSanitizer's
  // wakes ten times a second).
  const long most = sanitized_build() ? 26 : 6;
  const long idle = idle_wakeups(pid, most);
  std::printf("[lifecycle] idle daemon with two event loops: %ld wake-ups in 2 s\n", idle);
  CHECK(idle <= most);

  // The first connection on each loop brings its sweep back: both idle
  // clients are timed out on time.
  client a;
  client b;
  REQUIRE(a.connect(port));
  REQUIRE(b.connect(port));
  CHECK(a.wait_closed(3s));
  CHECK(b.wait_closed(3s));
  // And once they are gone, the loops sleep again.
  std::this_thread::sleep_for(300ms);
  const long again = idle_wakeups(pid, most);
  std::printf("[lifecycle] and once its clients are gone: %ld wake-ups in 2 s\n", again);
  CHECK(again <= most);
}

TEST_CASE("an idle daemon on a backplane wakes for Redis's answers only", "[lifecycle][backplane]") {
  PLEXD_REQUIRE_REDIS();
  redis_server redis;
  REQUIRE(redis.running());
  auto d = room_instance(redis, "a", room_listener("chat", "lobby"), {"lobby"},
                         "[daemon]\nlog_level = \"debug\"\nthreads = 1\n");
  std::this_thread::sleep_for(300ms);
  // The room's blocking read returns once a second: one wake-up each. A
  // deadline check polled every 250 ms woke it 8 times more in 2 s. The
  // status heartbeat and (sanitized builds) the sanitizer's own thread as
  // above.
  const long most = sanitized_build() ? 26 : 6;
  const long woke = idle_wakeups(d->process().pid(), most);
  std::printf("[lifecycle] idle daemon on a backplane: %ld wake-ups in 2 s\n", woke);
  CHECK(woke <= most);
  // The deadlines still hold: a Redis that stops answering is noticed.
  redis.pause();
  CHECK(d->wait_log("did not reply within", 15s));
  redis.resume();
  const auto ups = [&d] {
    const auto log = d->log();
    int n = 0;
    for (auto at = log.find("backplane: up"); at != std::string::npos; at = log.find("backplane: up", at + 1)) ++n;
    return n;
  };
  for (int i = 0; i < 300 && ups() < 2; ++i) std::this_thread::sleep_for(100ms);
  CHECK(ups() == 2);
}
