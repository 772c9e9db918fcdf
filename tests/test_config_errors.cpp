// Config loader: what a config that does not hold together reports, all at
// once and in file order, each with FILE:LINE:COL.
#include <catch2/catch.hpp>

#include <string>

#include "config_text.hpp"
#include "plexd/config/loader.hpp"

using namespace plexd::config;
using namespace plexd::test;
using namespace std::chrono_literals;

TEST_CASE("listeners that clash", "[config]") {
  auto two = [](const std::string& bind1, const std::string& bind2, const std::string& name2 = "b") {
    return "[[listener]]\nname = \"a\"\nbind = \"" + bind1 + "\"\nhandler = \"echo\"\n\n[[listener]]\nname = \"" +
           name2 + "\"\nbind = \"" + bind2 + "\"\nhandler = \"echo\"\n";
  };
  CHECK(only_error(two("*:1", "*:2", "a")) ==
        "7:8: listener[2].name: duplicate listener name 'a' (first used by the listener on line 1)");
  CHECK(only_error(two("127.0.0.1:80", "127.0.0.1:80")) ==
        "8:8: listener[2].bind: '127.0.0.1:80' clashes with '127.0.0.1:80' of listener 'a' on line 1");
  CHECK_THAT(only_error(two("*:80", "127.0.0.1:80")), Catch::Contains("clashes with '*:80'"));
  CHECK_THAT(only_error(two("[::1]:80", "*:80")), Catch::Contains("clashes"));
  CHECK_THAT(only_error(two("[::1]:80", "[0:0::1]:80")), Catch::Contains("clashes"));
  CHECK(parse(two("127.0.0.1:80", "127.0.0.2:80")).ok());
  CHECK(parse(two("127.0.0.1:80", "127.0.0.1:81")).ok());
  CHECK(parse(two("*:0", "*:0")).ok());  // port 0: each gets its own free port
  auto r = parse(two("*:80", "*:80", "a"));
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].key == "listener[2].name");
  CHECK(r.errors[1].key == "listener[2].bind");
}

TEST_CASE("every error is reported at once - in file order", "[config]") {
  auto r = parse(R"([daemon]
threads = -1
log_level = "loud"
colour = "red"

[[listener]]
name = "a"
bind = "nowhere"
handler = "greet"
suffix = "!"

[[listener]]
name = "a"
bind = "*:1"
)");
  REQUIRE(r.errors.size() == 7);
  std::vector<std::string> keys;
  for (const auto& e : r.errors) keys.push_back(std::to_string(e.line) + ":" + std::to_string(e.column) + " " + e.key);
  CHECK(keys == std::vector<std::string>{"2:11 daemon.threads", "3:13 daemon.log_level", "4:1 daemon.colour",
                                         "8:8 listener[1].bind", "10:1 listener[1].suffix", "12:1 listener[2].handler",
                                         "13:8 listener[2].name"});
}

TEST_CASE("TOML syntax errors carry their position", "[config]") {
  auto r = parse("[daemon]\nthreads = \n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 2);
  CHECK(r.errors[0].column == 11);
  CHECK(r.errors[0].key.empty());
  CHECK_THAT(r.errors[0].to_string(), Catch::StartsWith("t.toml:2:11: ") && Catch::Contains("expected"));
  CHECK_FALSE(parse("[daemon]\n[daemon]\n").ok());
}

TEST_CASE("durations above 30 days are refused with FILE:LINE:COL, never wrapped", "[config]") {
  // 429496730 s is 2^32 ticks of 100 ms plus 4: it used to become a 400 ms idle timeout.
  CHECK(only_error(listener("idle_timeout = 429496730")) ==
        "5:16: listener[1].idle_timeout: bad duration 429496730: too long; the maximum is 30 days (\"720h\", "
        "2592000 seconds)");
  // The largest signed 64-bit count of milliseconds: overflows any deadline computed from it.
  CHECK(only_error("[daemon]\nshutdown_grace = \"9223372036854775807ms\"") ==
        "2:18: daemon.shutdown_grace: bad duration '9223372036854775807ms': too long; the maximum is 30 days "
        "(\"720h\", 2592000 seconds)");
  CHECK_THAT(only_error(listener("idle_timeout = \"721h\"")), Catch::Contains("too long; the maximum is 30 days"));
  CHECK_THAT(only_error(listener("idle_timeout = \"2592000001ms\"")), Catch::Contains("too long"));
  CHECK_THAT(only_error(listener("idle_timeout = 2592001")), Catch::Contains("too long"));
  // The maximum itself, in every unit, is accepted exactly.
  for (const char* at_max : {"2592000", "\"720h\"", "\"43200m\"", "\"2592000s\"", "\"2592000000ms\""}) {
    INFO(at_max);
    CHECK(one_listener(std::string("idle_timeout = ") + at_max).idle_timeout == max_duration);
  }
  CHECK(max_duration == std::chrono::hours(720));
}
