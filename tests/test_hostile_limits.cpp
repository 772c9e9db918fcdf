// Hostile clients against the process's limits and deadlines: the open-file
// limit, connections that stopped reading, and the log lines an attack may
// cost.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include <asio/socket_base.hpp>

#include "harness.hpp"
#include "latency.hpp"
#include "plexd/core/json.hpp"
#include "plexd/platform/paths.hpp"

using namespace plexd::test;

namespace {
// utime + stime of a process in clock ticks, or -1 where /proc is missing.
long cpu_ticks(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return -1;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stol(f);
    if (i == 15) stime = std::stol(f);
  }
  return utime + stime;
}
}  // namespace

TEST_CASE("hostile: the open-file limit makes accept back off - not spin - and recover", "[hostile]") {
  const std::string prlimit = "/usr/bin/prlimit";
  if (!std::ifstream(prlimit) || plexd::platform::system_name() != "linux") {
    SUCCEED("no prlimit here");
    return;
  }
  // 64 descriptors in all: a few for the daemon itself, the rest for clients.
  probe_fixture f(listener_toml("echo", "echo"), {prlimit, "--nofile=64:64"});
  REQUIRE(f.start());
  std::vector<std::unique_ptr<client>> hogs;
  for (int i = 0; i < 80; ++i) {
    hogs.push_back(std::make_unique<client>());
    (void)hogs.back()->connect(f.d.port("echo"), 1s);  // the kernel backlog accepts them
  }
  REQUIRE(f.d.wait_log("backing off"));
  const long before = cpu_ticks(f.d.process().pid());
  std::this_thread::sleep_for(1s);
  const long after = cpu_ticks(f.d.process().pid());
  if (before >= 0) CHECK(after - before < 20);  // < 0.2 s of CPU in 1 s: no busy loop
  std::printf("[fd limit] 80 clients, 64 descriptors: daemon CPU in 1 s at exhaustion %ld ticks of 10 ms\n",
              after - before);
  CHECK(median_echo_us(f.probe, 100ms) < 1e8);  // the open connection is still served
  hogs.clear();
  CHECK(f.d.wait_log("accepting again"));
  client fresh;
  REQUIRE(fresh.connect(f.d.port("echo")));
  fresh.send("back");
  CHECK(fresh.read_exact(4) == "back");
}

namespace {
std::int64_t active_of(plexd_daemon& d, const std::string& name) {
  const auto st = status_json(d);
  for (const auto& l : st["listeners"].as_array()) {
    if (l["name"].as_string() == name) return static_cast<std::int64_t>(l["active"].as_number(-1));
  }
  return -1;
}

// A client that sends 4 MB to echo, never reads, then half-closes: the
// session is left closing with output queued and a peer that takes none.
void stuff_and_half_close(client& c, std::uint16_t port) {
  c.socket().open(asio::ip::tcp::v4());
  c.socket().set_option(asio::socket_base::receive_buffer_size(4096));
  REQUIRE(c.connect(port));
  c.send(std::string(std::size_t{4} << 20, 'q'));
  c.shutdown_send();
}

// Seconds until `pred` holds (polled), or -1 after `limit`.
template <typename Pred>
double seconds_until(Pred pred, std::chrono::seconds limit) {
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < limit) {
    if (pred()) return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::this_thread::sleep_for(100ms);
  }
  return -1;
}
}  // namespace

TEST_CASE("hostile: a half-closed client that never reads still meets idle_timeout", "[hostile]") {
  plexd_daemon d(listener_toml("echo", "echo", "idle_timeout = \"1s\"\nmax_output = 67108864"));
  REQUIRE(d.wait_ready());
  client c;
  stuff_and_half_close(c, d.port("echo"));
  const double s = seconds_until([&] { return active_of(d, "echo") == 0; }, 20s);
  std::printf("[deadline] closing with output queued, idle_timeout 1s: closed after %.1f s\n", s);
  CHECK(s >= 0);
  CHECK(s < 10);
  CHECK(d.wait_log("idle for"));
}

TEST_CASE("hostile: a removed listener with a stuck closing client stops draining at the grace deadline", "[hostile]") {
  // The harness sets shutdown_grace = "2s".
  plexd_daemon d(listener_toml("keep", "echo") + listener_toml("gone", "echo", "max_output = 67108864"));
  REQUIRE(d.wait_ready());
  client c;
  stuff_and_half_close(c, d.port("gone"));
  REQUIRE(d.wait_log("connected", 5s));
  d.rewrite(listener_toml("keep", "echo"));
  REQUIRE(d.cli({"reload"}).exit_code == 0);
  const double s = seconds_until([&] { return active_of(d, "gone") == -1; }, 20s);
  std::printf("[deadline] removed listener, closing client that never reads, grace 2s: gone after %.1f s\n", s);
  CHECK(s >= 0);
  CHECK(s < 10);
}

TEST_CASE("hostile: 200 max_line disconnects make a handful of log lines, not 200", "[hostile]") {
  probe_fixture f(listener_toml("lines", "echo", "framing = \"line\"\nmax_line = 64"));
  REQUIRE(f.start());
  int closed = 0;
  for (int i = 0; i < 200; ++i) {
    client c;
    if (!c.connect(f.d.port("lines"))) continue;
    c.send(std::string(200, 'L'));
    closed += c.wait_closed(5s) ? 1 : 0;
  }
  CHECK(closed == 200);
  std::this_thread::sleep_for(1100ms);
  // One more after the second is over reports the ones held back.
  client last;
  REQUIRE(last.connect(f.d.port("lines")));
  last.send(std::string(200, 'L'));
  CHECK(last.wait_closed(5s));
  REQUIRE(f.d.wait_log("more disconnects since the last report"));
  const auto log = f.d.log();
  std::size_t lines = 0;
  for (auto at = log.find("sent a line longer than max_line"); at != std::string::npos;
       at = log.find("sent a line longer than max_line", at + 1))
    ++lines;
  std::printf("[log flood] 201 max_line disconnects logged as %zu lines\n", lines);
  CHECK(lines >= 1);
  CHECK(lines <= 20);
}
