// Per-listener access rules: allow/deny, max_per_source, rate + burst,
// counted by reason and changed live on reload.
#include <catch2/catch.hpp>

#include <thread>

#include "harness.hpp"
#include "plexd/core/json.hpp"

using namespace plexd::test;
namespace json = plexd::core::json;

namespace {
std::string listener(const std::string& name, const std::string& extra, const std::string& bind = "127.0.0.1:0") {
  return "[[listener]]\nname = \"" + name + "\"\nbind = \"" + bind + "\"\nhandler = \"echo\"\n" + extra + "\n";
}

// True if the connection is served (echo answers), false if refused.
bool served(std::uint16_t port, const std::string& host = "127.0.0.1") {
  client c;
  if (!c.connect(port, 2s, host)) return false;
  c.send("?");
  return c.read_exact(1, 2s) == "?";
}

json::value refused_by(plexd_daemon& d, const std::string& name) {
  auto parsed = json::parse(d.cli({"status", "--json"}).out);
  REQUIRE(parsed.ok());
  for (const auto& l : parsed.value()["listeners"].as_array()) {
    if (l["name"].as_string() == name) return l["refused_by"];
  }
  return {};
}
}  // namespace

TEST_CASE("allow and deny lists decide who connects - deny wins", "[access]") {
  plexd_daemon d(listener("open", "") + listener("allowed", "allow = [\"127.0.0.0/8\"]") +
                 listener("elsewhere", "allow = [\"10.0.0.0/8\", \"::1/128\"]") +
                 listener("denied", "allow = [\"127.0.0.0/8\"]\ndeny = [\"127.0.0.1/32\"]"));
  REQUIRE(d.wait_ready());
  CHECK(served(d.port("open")));
  CHECK(served(d.port("allowed")));
  CHECK_FALSE(served(d.port("elsewhere")));
  CHECK_FALSE(served(d.port("denied")));
  CHECK(refused_by(d, "denied")["denied"].as_number() == 1);
  CHECK(refused_by(d, "elsewhere")["denied"].as_number() == 1);
  CHECK(d.wait_log("(denied)"));
}

TEST_CASE("IPv6 rules match IPv6 clients and IPv4-mapped clients match IPv4 rules", "[access]") {
  plexd_daemon d(listener("v6", "allow = [\"::1/128\"]", "[::1]:0") + listener("any", "deny = [\"127.0.0.1\"]", "*:0"));
  if (!d.wait_ready()) {
    // Only a host without an IPv6 loopback may skip, and only for that reason.
    REQUIRE_THAT(d.log(), Catch::Contains("listener 'v6' on [::1]:0"));
    WARN("skipped: no IPv6 loopback here");
    return;
  }
  CHECK(served(d.port("v6"), "::1"));
  CHECK_FALSE(served(d.port("any"), "127.0.0.1"));  // arrives as ::ffff:127.0.0.1
  CHECK(served(d.port("any"), "::1"));
}

TEST_CASE("max_per_source caps concurrent connections from one address", "[access]") {
  plexd_daemon d(listener("echo", "max_per_source = 2"));
  REQUIRE(d.wait_ready());
  client a, b;
  REQUIRE(a.connect(d.port("echo")));
  REQUIRE(b.connect(d.port("echo")));
  a.send("1");
  b.send("2");
  REQUIRE(a.read_exact(1) == "1");
  REQUIRE(b.read_exact(1) == "2");
  CHECK_FALSE(served(d.port("echo")));
  CHECK(refused_by(d, "echo")["max_per_source"].as_number() == 1);
  a.close();
  bool ok = false;
  for (int i = 0; i < 50 && !ok; ++i) {
    std::this_thread::sleep_for(20ms);
    ok = served(d.port("echo"));
  }
  CHECK(ok);
}

TEST_CASE("rate with burst refuses the excess and recovers - never a stuck state", "[access]") {
  plexd_daemon d(listener("echo", "rate = \"5/s\"\nburst = 3"));
  REQUIRE(d.wait_ready());
  int ok = 0;
  for (int i = 0; i < 10; ++i) ok += served(d.port("echo")) ? 1 : 0;
  CHECK(ok >= 3);
  CHECK(ok <= 5);
  CHECK(refused_by(d, "echo")["rate"].as_number() == 10 - ok);
  std::this_thread::sleep_for(700ms);  // tokens come back
  CHECK(served(d.port("echo")));
}

TEST_CASE("access rules change on reload without touching open connections", "[access]") {
  plexd_daemon d(listener("echo", ""));
  REQUIRE(d.wait_ready());
  client kept;
  REQUIRE(kept.connect(d.port("echo")));
  kept.send("a");
  REQUIRE(kept.read_exact(1) == "a");
  d.rewrite(listener("echo", "deny = [\"127.0.0.0/8\"]"));
  REQUIRE(d.cli({"reload"}).exit_code == 0);
  CHECK_FALSE(served(d.port("echo")));
  kept.send("b");
  CHECK(kept.read_exact(1) == "b");  // the open connection is untouched
  d.rewrite(listener("echo", ""));
  REQUIRE(d.cli({"reload"}).exit_code == 0);
  CHECK(served(d.port("echo")));
}

TEST_CASE("refusal logging is rate-limited under a connect flood", "[access]") {
  plexd_daemon d(listener("echo", "deny = [\"127.0.0.1\"]"));
  REQUIRE(d.wait_ready());
  for (int i = 0; i < 300; ++i) {
    client c;
    (void)c.connect(d.port("echo"), 1s);
  }
  std::this_thread::sleep_for(200ms);
  const auto log = d.log();
  std::size_t lines = 0;
  for (std::size_t p = log.find("refused 127.0.0.1"); p != std::string::npos;
       p = log.find("refused 127.0.0.1", p + 1)) {
    ++lines;
  }
  CHECK(lines >= 1);
  CHECK(lines <= 5);
  CHECK(refused_by(d, "echo")["denied"].as_number() == 300);
}
