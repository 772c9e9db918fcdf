// The Prometheus endpoint: the status counters in the exposition format.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "plexd/platform/paths.hpp"

using namespace plexd::test;

TEST_CASE("GET /metrics exposes exact per-listener counters", "[metrics]") {
  plexd_daemon d("[[listener]]\nname = \"echo\"\nbind = \"127.0.0.1:0\"\nhandler = \"echo\"\n",
                 "[daemon]\nlog_level = \"debug\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n");
  REQUIRE(d.wait_ready());
  std::smatch m;
  const auto log = d.log();
  REQUIRE(std::regex_search(log, m, std::regex("metrics: http://127\\.0\\.0\\.1:(\\d+)/metrics")));
  const auto port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  client c;
  REQUIRE(c.connect(d.port("echo")));
  c.send("12345");
  REQUIRE(c.read_exact(5) == "12345");

  client http;
  REQUIRE(http.connect(port));
  http.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto reply = http.read_until_closed(5s);
  CHECK(reply.rfind("HTTP/1.0 200 OK", 0) == 0);
  CHECK(reply.find("# TYPE plexd_bytes_received_total counter") != std::string::npos);
  CHECK(reply.find("plexd_bytes_received_total{listener=\"echo\",handler=\"echo\"} 5\n") != std::string::npos);
  CHECK(reply.find("plexd_connections_active{listener=\"echo\",handler=\"echo\"} 1\n") != std::string::npos);
  CHECK(reply.find("plexd_connections_refused_total{listener=\"echo\",reason=\"max_connections\"} 0\n") !=
        std::string::npos);

  client other;
  REQUIRE(other.connect(port));
  other.send("GET / HTTP/1.0\r\n\r\n");
  CHECK(other.read_until_closed(5s).rfind("HTTP/1.0 404", 0) == 0);
  client junk;
  REQUIRE(junk.connect(port));
  junk.send(std::string(20000, 'j'));
  CHECK(junk.wait_closed(5s));  // oversized head: closed, nothing else happens
}

namespace {
const std::string prlimit = "/usr/bin/prlimit";

bool can_limit_descriptors() {
  return std::ifstream(prlimit) && plexd::platform::system_name() == "linux";
}

std::uint16_t metrics_port(plexd_daemon& d) {
  std::smatch m;
  const auto log = d.log();
  if (!std::regex_search(log, m, std::regex("metrics: http://127\\.0\\.0\\.1:(\\d+)/metrics"))) return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1].str()));
}

// CPU seconds (user + system) the process has used, or -1 without /proc.
double cpu_seconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return -1;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);
  }
  return ticks / 100.0;  // USER_HZ is 100 on Linux
}

bool echo_answers(std::uint16_t port) {
  client c;
  if (!c.connect(port, 2s)) return false;
  c.send("still here");
  return c.read_exact(10, 3s) == "still here";
}
}  // namespace

TEST_CASE("metrics: 60 silent connections under a 48-descriptor limit neither spin nor starve a listener",
          "[metrics]") {
  if (!can_limit_descriptors()) {
    SUCCEED("no prlimit here");
    return;
  }
  plexd_daemon d(listener_toml("echo", "echo"), "[metrics]\nlisten = \"127.0.0.1:0\"\n", {},
                 {prlimit, "--nofile=48:48"});
  REQUIRE(d.wait_ready());
  const auto port = metrics_port(d);
  REQUIRE(port != 0);
  const long pid = d.process().pid();
  const double cpu_before = cpu_seconds(pid);
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<client>> silent;
  for (int i = 0; i < 60; ++i) {
    silent.push_back(std::make_unique<client>());
    (void)silent.back()->connect(port, 1s);  // the kernel's backlog takes them all
  }
  std::this_thread::sleep_for(1s);
  CHECK(echo_answers(d.port("echo")));  // a new client, while the silent ones are held
  // The request timeout frees every descriptor they held.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int closed = 0;
  for (auto& c : silent) {
    const auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
    closed += c->wait_closed(std::max(left, ms(1))) ? 1 : 0;
  }
  const std::chrono::duration<double> episode = std::chrono::steady_clock::now() - started;
  const double cpu = cpu_seconds(pid) - cpu_before;
  INFO("episode " << episode.count() << " s, daemon CPU " << cpu << " s, " << closed << "/60 closed by the daemon");
  std::printf(
      "[metrics] 60 silent connections, 48 descriptors: %d/60 closed by the daemon in %.1f s, daemon CPU %.2f s\n",
      closed, episode.count(), cpu);
  CHECK(closed == 60);
  // An idle daemon uses next to nothing; a spinning accept loop uses all
  // the core it gets (still several percent of it on a loaded machine).
  CHECK(cpu < 0.03 * episode.count());
  CHECK(echo_answers(d.port("echo")));
  client http;  // and metrics still answer
  REQUIRE(http.connect(port));
  http.send("GET /metrics HTTP/1.0\r\n\r\n");
  CHECK(http.read_until_closed(5s).rfind("HTTP/1.0 200 OK", 0) == 0);
}

TEST_CASE("metrics and control: accept backs off when listeners used up the descriptors", "[metrics]") {
  if (!can_limit_descriptors()) {
    SUCCEED("no prlimit here");
    return;
  }
  plexd_daemon d(listener_toml("echo", "echo"), "[metrics]\nlisten = \"127.0.0.1:0\"\n", {},
                 {prlimit, "--nofile=48:48"});
  REQUIRE(d.wait_ready());
  const auto port = metrics_port(d);
  REQUIRE(port != 0);
  std::vector<std::unique_ptr<client>> hogs;
  for (int i = 0; i < 60; ++i) {
    hogs.push_back(std::make_unique<client>());
    (void)hogs.back()->connect(d.port("echo"), 1s);
  }
  REQUIRE(d.wait_log("listener echo: accept failed"));
  // Both wait in the backlog while the daemon has no descriptor to spare.
  client http, control;
  REQUIRE(http.connect(port));
  http.send("GET /metrics HTTP/1.0\r\n\r\n");
  const auto ctl = d.control();
  REQUIRE(control.connect(static_cast<std::uint16_t>(std::stoi(ctl.substr(ctl.rfind(':') + 1)))));
  control.send("{\"v\":1,\"cmd\":\"ping\"}\n");
  CHECK(d.wait_log("metrics on 127.0.0.1:0: accept failed"));
  CHECK(d.wait_log("control endpoint tcp:127.0.0.1:0: accept failed"));
  const long pid = d.process().pid();
  const double cpu_before = cpu_seconds(pid);
  std::this_thread::sleep_for(3s);
  const double cpu = cpu_seconds(pid) - cpu_before;
  INFO("daemon CPU " << cpu << " s in 3 s of descriptor exhaustion");
  CHECK(cpu < 0.1);
  hogs.clear();
  CHECK(http.read_until_closed(10s).rfind("HTTP/1.0 200 OK", 0) == 0);
  auto pong = control.read_line(10s);
  REQUIRE(pong);
  CHECK(pong->find("\"ok\":true") != std::string::npos);
}
