// The forward handler's keys: defaults, every value, every error with its
// exact position, and `plexd check` on a forward listener.
#include <catch2/catch.hpp>

#include "config_text.hpp"
#include "harness.hpp"
#include "plexd/config/loader.hpp"

using namespace plexd::config;
using namespace plexd::test;
using namespace std::chrono_literals;

namespace {

// A forward [[listener]] on lines 1-4; `extra` starts on line 5.
std::string forward_listener(const std::string& extra) {
  return "[[listener]]\nname = \"f\"\nbind = \"127.0.0.1:9000\"\nhandler = \"forward\"\n" + extra;
}

forward_options forward_ok(const std::string& extra) {
  auto r = parse_config(forward_listener(extra), "t.toml");
  INFO(all_errors(r));
  REQUIRE(r.ok());
  return std::get<forward_options>(r.cfg.listeners.at(0).options);
}

}  // namespace

TEST_CASE("forward defaults match the contract", "[forward][config]") {
  const auto o = forward_ok("upstreams = [\"10.0.0.5:80\"]\n");
  REQUIRE(o.upstreams.size() == 1);
  CHECK(o.upstreams[0].host == "10.0.0.5");
  CHECK(o.upstreams[0].port == 80);
  CHECK(o.balance_mode == balance::round_robin);
  CHECK(o.connect_timeout == 5s);
  CHECK(o.max_fails == 1);
  CHECK(o.fail_timeout == 10s);
  CHECK(o.health_check == 0s);
  CHECK(o.health_rise == 2);
  CHECK(o.health_fall == 2);
  CHECK(o.proxy_protocol == proxy_header::none);
  CHECK(o.half_close);
  CHECK(o.fin_timeout == 30s);
  CHECK(o.buffer == 65536);
}

TEST_CASE("forward keys take every valid value", "[forward][config]") {
  const auto o = forward_ok(
      "upstreams = [\"10.0.0.5:80\", \"backend.example:8080\", \"[::1]:8081\"]\n"
      "balance = \"least_conn\"\nconnect_timeout = \"250ms\"\nmax_fails = 0\nfail_timeout = 3\n"
      "health_check = \"2s\"\nhealth_rise = 3\nhealth_fall = 4\nproxy_protocol = \"v2\"\n"
      "fin_timeout = \"1m\"\nbuffer = 1024\n");
  REQUIRE(o.upstreams.size() == 3);
  CHECK(o.upstreams[1].host == "backend.example");
  CHECK(o.upstreams[2].host == "::1");
  CHECK(o.upstreams[2].to_string() == "[::1]:8081");
  CHECK(o.balance_mode == balance::least_conn);
  CHECK(o.connect_timeout == 250ms);
  CHECK(o.max_fails == 0);
  CHECK(o.fail_timeout == 3s);
  CHECK(o.health_check == 2s);
  CHECK(o.health_rise == 3);
  CHECK(o.health_fall == 4);
  CHECK(o.proxy_protocol == proxy_header::v2);
  CHECK(o.fin_timeout == 60s);
  CHECK(o.buffer == 1024);
  CHECK(forward_ok("upstreams = [\"a:1\"]\nbalance = \"first\"\nproxy_protocol = \"v1\"\n").balance_mode ==
        balance::first);
  CHECK_FALSE(forward_ok("upstreams = [\"a:1\"]\nhalf_close = false\n").half_close);
}

TEST_CASE("every forward config error has its position", "[forward][config]") {
  const std::string up = "upstreams = [\"127.0.0.1:1\"]\n";
  CHECK(only_error(forward_listener("")) ==
        "1:1: listener[1].upstreams: missing required key 'upstreams' (handler "
        "'forward')");
  CHECK(only_error(forward_listener("upstreams = []\n")) ==
        "5:13: listener[1].upstreams: at least one upstream is required");
  CHECK(only_error(forward_listener("upstreams = \"a:1\"\n")) ==
        "5:13: listener[1].upstreams: expected an array of strings, got a string");
  CHECK(only_error(forward_listener("upstreams = [\"a:1\", 5]\n")) ==
        "5:21: listener[1].upstreams: expected an array of strings, but an element is an integer");
  CHECK(only_error(forward_listener("upstreams = [\"nohost\"]\n")) ==
        "5:14: listener[1].upstreams: bad address 'nohost': missing ':PORT'");
  CHECK(only_error(forward_listener("upstreams = [\"*:80\"]\n")) ==
        "5:14: listener[1].upstreams: bad upstream '*:80': '*' is for binding; name the host to connect to");
  CHECK(only_error(forward_listener("upstreams = [\"a:0\"]\n")) ==
        "5:14: listener[1].upstreams: bad upstream 'a:0': port must be from 1 to 65535");
  CHECK(only_error(forward_listener("upstreams = [\"a:1\", \"a:1\"]\n")) ==
        "5:21: listener[1].upstreams: upstream 'a:1' is listed twice");
  CHECK(only_error(forward_listener("upstreams = [\"::1:80\"]\n")) ==
        "5:14: listener[1].upstreams: bad address '::1:80': an IPv6 address needs brackets, e.g. [::1]:80");
  CHECK(only_error(forward_listener(up + "balance = \"least\"\n")) ==
        "6:11: listener[1].balance: 'least' is not one of round_robin, least_conn, first");
  CHECK(only_error(forward_listener(up + "connect_timeout = \"0\"\n")) ==
        "6:19: listener[1].connect_timeout: must be longer than 0");
  CHECK(only_error(forward_listener(up + "fail_timeout = \"5 s\"\n"))
            .rfind("6:16: listener[1].fail_timeout: bad duration '5 s'", 0) == 0);
  CHECK(only_error(forward_listener(up + "max_fails = -1\n")) ==
        "6:13: listener[1].max_fails: out of range: must be between 0 and 1000, got -1");
  CHECK(only_error(forward_listener(up + "health_rise = 0\n")) ==
        "6:15: listener[1].health_rise: out of range: must be between 1 and 100, got 0");
  CHECK(only_error(forward_listener(up + "health_fall = 101\n")) ==
        "6:15: listener[1].health_fall: out of range: must be between 1 and 100, got 101");
  CHECK(only_error(forward_listener(up + "health_check = true\n")) ==
        "6:16: listener[1].health_check: expected a duration (a string such as \"5s\" or an integer of seconds), got "
        "a boolean");
  CHECK(only_error(forward_listener(up + "proxy_protocol = \"v3\"\n")) ==
        "6:18: listener[1].proxy_protocol: 'v3' is not one of v1, v2; did you mean 'v1'?");
  CHECK(only_error(forward_listener(up + "fin_timeout = 0\n")) ==
        "6:15: listener[1].fin_timeout: must be longer than 0");
  CHECK(only_error(forward_listener(up + "half_close = \"no\"\n")) ==
        "6:14: listener[1].half_close: expected a boolean, got a string");
  CHECK(only_error(forward_listener(up + "buffer = 10\n")) ==
        "6:10: listener[1].buffer: out of range: must be between 1024 and 1073741824, got 10");
  CHECK(only_error(forward_listener(up + "buffer = 2000000\n")) ==
        "6:10: listener[1].buffer: buffer (2000000) must not exceed max_output (1048576)");
  CHECK(only_error(forward_listener(up + "max_output = 1000\n")) ==
        "6:14: listener[1].max_output: buffer (65536) must not exceed max_output (1000)");
  CHECK(only_error(forward_listener(up + "suffix = \"x\"\n")) ==
        "6:1: listener[1].suffix: 'suffix' is not an option of handler 'forward' (it belongs to echo)");
  const std::string echo = "[[listener]]\nname = \"e\"\nbind = \"127.0.0.1:9000\"\nhandler = \"echo\"\n";
  CHECK(only_error(echo + up) ==
        "5:1: listener[1].upstreams: 'upstreams' is not an option of handler 'echo' (it belongs to forward)");
}

TEST_CASE("plexd check reports forward errors as FILE:LINE:COL and summarises a valid one", "[forward][config]") {
  temp_dir dir;
  const auto bad = dir.write("bad.toml", forward_listener("upstreams = [\"a:1\"]\nbalance = \"fastest\"\n"));
  auto r = run_plexd({"check", "-c", bad});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(bad + ":6:11: listener[1].balance: 'fastest' is not one of") != std::string::npos);
  const auto good = dir.write("good.toml", forward_listener("upstreams = [\"127.0.0.1:1\", \"[::1]:2\"]\n"));
  r = run_plexd({"check", "-c", good});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("forward") != std::string::npos);
}
