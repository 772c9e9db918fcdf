// Forward upstreams given by name, with the system resolver replaced by a
// preloaded stand-in (tests/support/resolve_shim.cpp): how often the daemon
// resolves, and what a resolver that does not answer costs a client.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "harness.hpp"
#include "test_forward_upstream.hpp"

using namespace plexd::test;

namespace {

// The daemon's environment: the stand-in resolver, logging to `log`.
std::map<std::string, std::string> shim_env(const std::string& log) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  // A library preloaded ahead of the sanitizer's runtime is what this test
  // wants, not a mistake for AddressSanitizer to stop.
  return {{"LD_PRELOAD", PLEXD_RESOLVE_SHIM},
          {"PLEXD_TEST_RESOLVE_LOG", log},
          {"ASAN_OPTIONS", std::string(asan != nullptr ? asan : "") + ":verify_asan_link_order=0"}};
}

// How many times the daemon resolved `name`.
int resolves_of(const std::string& log, const std::string& name) {
  std::ifstream in(log);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line == name ? 1 : 0;
  return n;
}

// How many times the daemon resolved `name`, once that reaches `expected` or
// two seconds pass: a resolve the daemon has asked for is logged when the
// resolver's thread gets to it, which a busy machine may delay.
int resolves_of(const std::string& log, const std::string& name, int expected) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int n = resolves_of(log, name);
  while (n < expected && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    n = resolves_of(log, name);
  }
  return n;
}

}  // namespace

TEST_CASE("forward resolves a name once for many connections, and again after a failed connect", "[forward]") {
  upstream_server a(upstream_server::mode::echo, "a\n");
  temp_dir dir;
  const auto log = dir.file("resolves.log");
  const auto named = "counted.test:" + std::to_string(a.port());
  plexd_daemon d(forward_toml({named}), "", shim_env(log));
  REQUIRE(d.wait_ready());
  for (int i = 0; i < 20; ++i) {
    client c;
    REQUIRE(reached(d, c) == "a");
  }
  // Twenty connections within the reuse period: one trip to the resolver.
  CHECK(resolves_of(log, "counted.test") == 1);
  CHECK(upstream_of(d, named)["connects"].as_number() == 20);

  // The name's addresses stop answering: they are forgotten, and the next
  // connection asks the resolver again.
  a.kill();
  client refused;
  REQUIRE(refused.connect(d.port("fwd")));
  CHECK_FALSE(refused.read_line().has_value());
  CHECK(resolves_of(log, "counted.test") == 1);
  client next;
  REQUIRE(next.connect(d.port("fwd")));
  CHECK_FALSE(next.read_line().has_value());
  CHECK(resolves_of(log, "counted.test") == 2);
}

TEST_CASE("forward tries every address of a name in turn", "[forward]") {
  upstream_server a(upstream_server::mode::echo, "a\n");
  temp_dir dir;
  const auto log = dir.file("resolves.log");
  // The stand-in answers "twoaddr." names with 127.0.0.2, where nothing
  // listens, then 127.0.0.1.
  const auto named = "twoaddr.test:" + std::to_string(a.port());
  plexd_daemon d(forward_toml({named}), "", shim_env(log));
  REQUIRE(d.wait_ready());
  for (int i = 0; i < 2; ++i) {
    client c;
    CHECK(reached(d, c) == "a");
  }
  // The name is the upstream: an address that refused on the way to one
  // that answered is not a failed connect.
  CHECK(upstream_of(d, named)["connects"].as_number() == 2);
  CHECK(upstream_of(d, named)["connect_failures"].as_number() == 0);
  CHECK(resolves_of(log, "twoaddr.test") == 1);
}

TEST_CASE("forward gives each address of a name its own connect_timeout, then goes first to the one that answered",
          "[forward]") {
  upstream_server a(upstream_server::mode::echo, "a\n");
  // 127.0.0.2 on the same port: a listener whose queue one waiting
  // connection fills, so that a connect there is never answered.
  asio::io_context io;
  asio::ip::tcp::acceptor hole(io);
  const asio::ip::tcp::endpoint hole_at(asio::ip::make_address("127.0.0.2"), a.port());
  hole.open(hole_at.protocol());
  hole.bind(hole_at);
  hole.listen(0);
  asio::ip::tcp::socket filler(io);
  filler.connect(hole_at);
  temp_dir dir;
  // The stand-in answers "twoaddr." names with 127.0.0.2, then 127.0.0.1.
  const auto named = "twoaddr.test:" + std::to_string(a.port());
  plexd_daemon d(forward_toml({named}, "connect_timeout = \"1s\""), "", shim_env(dir.file("resolves.log")));
  REQUIRE(d.wait_ready());
  {
    client c;
    CHECK(reached(d, c) == "a");  // after 127.0.0.2's second
  }
  const auto start = std::chrono::steady_clock::now();
  client c;
  CHECK(reached(d, c) == "a");
  // Under the 1 s that 127.0.0.2 would cost, with room for a busy machine.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(900));
  CHECK(upstream_of(d, named)["connects"].as_number() == 2);
  CHECK(upstream_of(d, named)["connect_failures"].as_number() == 0);
}

TEST_CASE("forward: a resolver that does not answer costs a client connect_timeout, not its delay", "[forward]") {
  upstream_server b(upstream_server::mode::echo, "b\n");
  temp_dir dir;
  const auto log = dir.file("resolves.log");
  // "slow." names take the stand-in resolver 8 s to answer.
  const auto slow = "slow.test:" + std::to_string(dead_port());
  plexd_daemon d(forward_toml({slow, b.address()}, "balance = \"first\"\nconnect_timeout = \"500ms\""), "",
                 shim_env(log));
  REQUIRE(d.wait_ready());
  const auto start = std::chrono::steady_clock::now();
  client c;
  CHECK(reached(d, c) == "b");
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited < std::chrono::seconds(4));
  CHECK(resolves_of(log, "slow.test") == 1);
  CHECK(upstream_of(d, slow)["connect_failures"].as_number() == 1);
}

TEST_CASE("forward keeps using a name's addresses while it resolves them again in the background", "[forward]") {
  upstream_server a(upstream_server::mode::echo, "a\n");
  temp_dir dir;
  const auto log = dir.file("resolves.log");
  // The stand-in answers "slowlater." names at once the first time, then in 3 s.
  plexd_daemon d(forward_toml({"slowlater.test:" + std::to_string(a.port())}), "", shim_env(log));
  REQUIRE(d.wait_ready());
  {
    client c;
    REQUIRE(reached(d, c) == "a");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5300));  // the documented 5 s of reuse, and a little
  // Past the reuse period: the next connections go to the addresses they
  // had, without waiting for the resolver, which is asked once.
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    client c;
    CHECK(reached(d, c) == "a");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  }
  CHECK(resolves_of(log, "slowlater.test", 2) == 2);
}
