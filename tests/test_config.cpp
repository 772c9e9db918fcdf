// Config loader: values, every key of every table, every error kind with its
// exact position, and the built-in default against the contract.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "plexd/config/loader.hpp"

using namespace plexd::config;
using namespace std::chrono_literals;

namespace {

load_result parse(std::string_view text) {
  return parse_config(text, "t.toml");
}

std::string all_errors(const load_result& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

config parse_ok(std::string_view text) {
  auto r = parse(text);
  INFO(all_errors(r));
  REQUIRE(r.ok());
  return r.cfg;
}

// Parses text that has exactly one problem and returns "LINE:COL: KEY: MESSAGE".
std::string only_error(std::string_view text) {
  auto r = parse(text);
  INFO(text);
  INFO(all_errors(r));
  REQUIRE(r.errors.size() == 1);
  auto s = r.errors[0].to_string();
  REQUIRE(s.rfind("t.toml:", 0) == 0);
  return s.substr(7);
}

// A valid [[listener]] on lines 1-4; `extra` starts on line 5.
std::string listener(const std::string& extra, const std::string& handler = "echo") {
  return "[[listener]]\nname = \"a\"\nbind = \"127.0.0.1:9000\"\nhandler = \"" + handler + "\"\n" + extra;
}

listener_config one_listener(const std::string& extra, const std::string& handler = "echo") {
  auto cfg = parse_ok(listener(extra, handler));
  REQUIRE(cfg.listeners.size() == 1);
  return cfg.listeners[0];
}

}  // namespace

TEST_CASE("an empty config gives every default", "[config]") {
  auto cfg = parse_ok("");
  CHECK(cfg.source == "t.toml");
  CHECK(cfg.daemon.log_level == "info");
  CHECK(cfg.daemon.log_file.empty());
  CHECK(cfg.daemon.log_file_max_bytes == 10u * 1024 * 1024);
  CHECK(cfg.daemon.log_file_count == 5);
  CHECK(cfg.daemon.threads == 1);
  CHECK(cfg.daemon.shutdown_grace == 5s);
  CHECK(cfg.daemon.user.empty());
  CHECK(cfg.control.endpoint.empty());
  CHECK_FALSE(cfg.metrics.listen.has_value());
  CHECK_FALSE(cfg.metrics.allow_remote);
  CHECK(cfg.listeners.empty());
}

TEST_CASE("a minimal listener gets the default limits and handler options", "[config]") {
  auto l = one_listener("");
  CHECK(l.name == "a");
  CHECK(l.bind == bind_address{"127.0.0.1", 9000});
  CHECK(l.handler == "echo");
  CHECK(l.max_connections == 1024);
  CHECK(l.idle_timeout == 0ms);
  CHECK(l.max_line == 65536);
  CHECK(l.max_output == 1048576);
  CHECK(l.allow.empty());
  CHECK(l.deny.empty());
  CHECK(l.max_per_source == 0);
  CHECK(l.rate == rate_limit{});
  CHECK(l.options == handler_options{echo_options{}});
  CHECK(l.line == 1);
  CHECK(l.column == 1);
  CHECK(one_listener("", "greet").options == handler_options{greet_options{}});
  CHECK(one_listener("", "chat").options == handler_options{chat_options{}});
  CHECK(one_listener("", "discard").options == handler_options{discard_options{}});
}

TEST_CASE("every [daemon] key", "[config]") {
  auto cfg = parse_ok(R"([daemon]
log_level = "debug"
log_file = "/var/log/plexd.log"
log_file_max_bytes = 4096
log_file_count = 100
threads = 0
shutdown_grace = "250ms"
user = "plexd"
)");
  CHECK(cfg.daemon.log_level == "debug");
  CHECK(cfg.daemon.log_file == "/var/log/plexd.log");
  CHECK(cfg.daemon.log_file_max_bytes == 4096);
  CHECK(cfg.daemon.log_file_count == 100);
  CHECK(cfg.daemon.threads == 0);
  CHECK(cfg.daemon.shutdown_grace == 250ms);
  CHECK(cfg.daemon.user == "plexd");
  CHECK(parse_ok("[daemon]\nshutdown_grace = 7").daemon.shutdown_grace == 7s);
  CHECK(parse_ok("[daemon]\nthreads = 256").daemon.threads == 256);
  for (auto level : {"trace", "debug", "info", "warn", "error"})
    CHECK(parse_ok(std::string("[daemon]\nlog_level = \"") + level + "\"").daemon.log_level == level);
}

TEST_CASE("[control] endpoints", "[config]") {
  for (auto ok : {"", "unix:/run/plexd/control.sock", "pipe:plexd", "tcp:127.0.0.1:7070", "tcp:127.8.9.10:1",
                  "tcp:[::1]:7070", "tcp:localhost:7070"}) {
    CHECK(parse_ok(std::string("[control]\nendpoint = \"") + ok + "\"").control.endpoint == ok);
  }
  CHECK(only_error("[control]\nendpoint = \"tcp:10.0.0.1:7070\"") ==
        "2:12: control.endpoint: a tcp control endpoint must be on a loopback address (127.x.x.x, ::1 or localhost)");
  CHECK_THAT(only_error("[control]\nendpoint = \"tcp:*:7070\""), Catch::Contains("loopback"));
  CHECK(only_error("[control]\nendpoint = \"tcp:127.0.0.1\"") ==
        "2:12: control.endpoint: bad address '127.0.0.1': missing ':PORT'");
  CHECK_THAT(only_error("[control]\nendpoint = \"http://x\""),
             Catch::StartsWith("2:12: control.endpoint: bad control endpoint 'http://x'"));
  CHECK_THAT(only_error("[control]\nendpoint = \"unix:\""), Catch::Contains("nothing after 'unix:'"));
}

TEST_CASE("[metrics] keys and the loopback rule", "[config]") {
  auto cfg = parse_ok("[metrics]\nlisten = \"127.0.0.1:9100\"");
  REQUIRE(cfg.metrics.listen.has_value());
  CHECK(cfg.metrics.listen->to_string() == "127.0.0.1:9100");
  CHECK_FALSE(cfg.metrics.allow_remote);
  cfg = parse_ok("[metrics]\nallow_remote = true\nlisten = \"*:9100\"\n");
  REQUIRE(cfg.metrics.listen.has_value());
  CHECK(cfg.metrics.listen->to_string() == "*:9100");
  CHECK(cfg.metrics.allow_remote);
  CHECK(only_error("[metrics]\nlisten = \"0.0.0.0:9100\"") ==
        "2:10: metrics.listen: '0.0.0.0:9100' is not a loopback address; set allow_remote = true to expose metrics");
  CHECK(only_error("[metrics]\nlisten = \"9100\"") == "2:10: metrics.listen: bad address '9100': missing ':PORT'");
  CHECK(only_error("[metrics]\nallow_remote = 1") == "2:16: metrics.allow_remote: expected a boolean, got an integer");
}

TEST_CASE("every common listener key", "[config]") {
  auto l = one_listener(R"(max_connections = 10
idle_timeout = "2m"
max_line = 80
max_output = 4096
allow = ["10.0.0.0/8", "::1", "fd00::/8"]
deny = ["10.9.0.0/16"]
max_per_source = 3
rate = "600/m"
burst = 20
)");
  CHECK(l.max_connections == 10);
  CHECK(l.idle_timeout == 2min);
  CHECK(l.max_line == 80);
  CHECK(l.max_output == 4096);
  REQUIRE(l.allow.size() == 3);
  CHECK(l.allow[0] == network{"10.0.0.0/8", {10, 0, 0, 0}, 8});
  CHECK(l.allow[1].prefix == 128);
  CHECK(l.allow[1].addr.size() == 16);
  CHECK(l.allow[2].text == "fd00::/8");
  REQUIRE(l.deny.size() == 1);
  CHECK(l.deny[0].prefix == 16);
  CHECK(l.max_per_source == 3);
  CHECK(l.rate.per_second == Approx(10));
  CHECK(l.rate.burst == Approx(20));
  CHECK(one_listener("idle_timeout = 30").idle_timeout == 30s);
  // burst defaults to one second's worth of the rate, at least one.
  CHECK(one_listener("rate = \"100/s\"").rate.burst == Approx(100));
  CHECK(one_listener("rate = \"5/h\"").rate.burst == Approx(1));
  CHECK(one_listener("rate = \"5/h\"").rate.per_second == Approx(5.0 / 3600));
}

TEST_CASE("every handler option", "[config]") {
  auto echo = std::get<echo_options>(one_listener("framing = \"line\"\nprefix = \"> \"\nsuffix = \"!\"").options);
  CHECK(echo == echo_options{framing::line, "> ", "!"});
  CHECK(std::get<echo_options>(one_listener("framing = \"raw\"").options).framing_mode == framing::raw);
  auto greet = std::get<greet_options>(one_listener("message = \"Hi\\n\"\nawait_reply = true", "greet").options);
  CHECK(greet == greet_options{"Hi\n", true});
  auto chat = std::get<chat_options>(
      one_listener("format = \"<{peer}> {line}\"\nannounce = false\nwelcome = \"hi\"\ngoodbye = \"bye\"", "chat")
          .options);
  CHECK(chat == chat_options{"<{peer}> {line}", false, "hi", "bye", 0, 0, ""});
}

TEST_CASE("unknown keys - with and without a suggestion", "[config]") {
  CHECK(only_error("[deamon]\n") == "1:2: deamon: unknown key; did you mean 'daemon'?");
  CHECK(only_error("[daemon]\nthread = 2") == "2:1: daemon.thread: unknown key; did you mean 'threads'?");
  CHECK(only_error("[control]\nzzzzzz = 1") == "2:1: control.zzzzzz: unknown key (valid keys: endpoint)");
  CHECK(only_error(listener("suffx = \"x\"")) == "5:1: listener[1].suffx: unknown key; did you mean 'suffix'?");
  CHECK(only_error(listener("  max_conections = 3")) ==
        "5:3: listener[1].max_conections: unknown key; did you mean 'max_connections'?");
  CHECK_THAT(only_error(listener("colour = 1", "discard")),
             Catch::StartsWith("5:1: listener[1].colour: unknown key (valid keys: name, bind, handler"));
}

TEST_CASE("odd but valid layouts", "[config]") {
  // Dotted keys and inline tables are plain TOML; the loader sees the same tree.
  auto cfg = parse_ok("daemon.threads = 3\nlistener = [{name = \"x\", bind = \"*:1\", handler = \"discard\"}]\n");
  CHECK(cfg.daemon.threads == 3);
  REQUIRE(cfg.listeners.size() == 1);
  CHECK(cfg.listeners[0].column == 13);
  CHECK(parse_ok("listener = []").listeners.empty());
  CHECK(parse_ok("[daemon]\n[control]\n[metrics]\n").listeners.empty());
  CHECK(only_error("daemon.thread = 3") == "1:8: daemon.thread: unknown key; did you mean 'threads'?");
}

TEST_CASE("a key of another handler", "[config]") {
  CHECK(only_error(listener("suffix = \"x\"", "greet")) ==
        "5:1: listener[1].suffix: 'suffix' is not an option of handler 'greet' (it belongs to echo)");
  CHECK(only_error(listener("announce = true", "discard")) ==
        "5:1: listener[1].announce: 'announce' is not an option of handler 'discard' (it belongs to chat)");
}

TEST_CASE("wrong types", "[config]") {
  CHECK(only_error("[daemon]\nthreads = \"4\"") == "2:11: daemon.threads: expected an integer, got a string");
  CHECK(only_error("[daemon]\nlog_level = 3") == "2:13: daemon.log_level: expected a string, got an integer");
  CHECK(only_error("[daemon]\nshutdown_grace = 1.5") ==
        "2:18: daemon.shutdown_grace: expected a duration (a string such as \"5s\" or an integer of seconds), got a "
        "float");
  CHECK(only_error("daemon = 5") == "1:10: daemon: expected a table, got an integer");
  CHECK(only_error("[listener]\nname = \"x\"") ==
        "1:1: listener: expected an array of tables ([[listener]]), got a table");
  CHECK(only_error(listener("allow = \"10.0.0.0/8\"")) ==
        "5:9: listener[1].allow: expected an array of strings, got a string");
  CHECK(only_error(listener("deny = [\"10.0.0.0/8\", 7]")) ==
        "5:23: listener[1].deny: expected an array of strings, but an element is an integer");
  CHECK(only_error(listener("await_reply = \"yes\"", "greet")) ==
        "5:15: listener[1].await_reply: expected a boolean, got a string");
  CHECK(only_error("[[listener]]\nname = 1\nbind = \"*:1\"\nhandler = \"echo\"") ==
        "2:8: listener[1].name: expected a string, got an integer");
}

TEST_CASE("bad values: durations - addresses - networks - rates - ranges - choices", "[config]") {
  CHECK(only_error("[daemon]\nshutdown_grace = \"5 s\"") ==
        "2:18: daemon.shutdown_grace: bad duration '5 s': expected a whole number with a unit ms, s, m or h "
        "(e.g. \"250ms\", \"5s\") or a number of seconds");
  CHECK(only_error("[daemon]\nshutdown_grace = -1") ==
        "2:18: daemon.shutdown_grace: bad duration -1: must not be negative");
  CHECK(only_error("[[listener]]\nname = \"a\"\nbind = \"1.2.3:80\"\nhandler = \"echo\"") ==
        "3:8: listener[1].bind: bad address '1.2.3:80': '1.2.3' is not a valid IPv4 address");
  CHECK(only_error(listener("allow = [\"10.0.0.0/8\", \"10.1.2.3/8\"]")) ==
        "5:24: listener[1].allow: bad network '10.1.2.3/8': host bits set; did you mean 10.0.0.0/8?");
  CHECK(only_error(listener("rate = \"10/d\"")) ==
        "5:8: listener[1].rate: bad rate '10/d': expected COUNT/s, COUNT/m or COUNT/h, e.g. \"100/s\"");
  CHECK(only_error(listener("max_line = 0")) == "5:12: listener[1].max_line: out of range: must be at least 1, got 0");
  CHECK(only_error("[daemon]\nthreads = 300") ==
        "2:11: daemon.threads: out of range: must be between 0 and 256, got 300");
  CHECK(only_error("[daemon]\nlog_file_count = 0") ==
        "2:18: daemon.log_file_count: out of range: must be between 1 and 100, got 0");
  CHECK(only_error(listener("max_per_source = -1")) ==
        "5:18: listener[1].max_per_source: out of range: must be at least 0, got -1");
  CHECK(only_error("[daemon]\nlog_level = \"infoo\"") ==
        "2:13: daemon.log_level: 'infoo' is not one of trace, debug, info, warn, error; did you mean 'info'?");
  CHECK(only_error(listener("framing = \"lines\"")) ==
        "5:11: listener[1].framing: 'lines' is not one of raw, line; did you mean 'line'?");
  CHECK(only_error(listener("format = \"{peer}\"", "chat")) ==
        "5:10: listener[1].format: the format must contain {line}");
  CHECK(only_error(listener("burst = 5")) == "5:9: listener[1].burst: burst is only valid together with rate");
  CHECK(only_error(listener("rate = \"1/s\"\nburst = 0")) ==
        "6:9: listener[1].burst: out of range: must be at least 1, got 0");
}

TEST_CASE("listener names - handlers and required keys", "[config]") {
  CHECK(only_error("[[listener]]\nname = \"my echo\"\nbind = \"*:1\"\nhandler = \"echo\"") ==
        "2:8: listener[1].name: invalid listener name 'my echo': use only letters, digits, '-' and '_'");
  CHECK_THAT(only_error("[[listener]]\nname = \"\"\nbind = \"*:1\"\nhandler = \"echo\""),
             Catch::Contains("invalid listener name ''"));
  CHECK(parse_ok("[[listener]]\nname = \"Echo-2_b\"\nbind = \"*:1\"\nhandler = \"echo\"").listeners[0].name ==
        "Echo-2_b");
  CHECK(only_error("[[listener]]\nname = \"a\"\nbind = \"*:1\"\nhandler = \"ecko\"") ==
        "4:11: listener[1].handler: unknown handler 'ecko'; did you mean 'echo'?");
  CHECK(only_error("[[listener]]\nname = \"a\"\nbind = \"*:1\"\nhandler = \"http\"") ==
        "4:11: listener[1].handler: unknown handler 'http' (known: echo, greet, chat, discard, forward)");
  // With an unknown handler its options cannot be judged: no second error for them.
  CHECK_THAT(only_error("[[listener]]\nname = \"a\"\nbind = \"*:1\"\nhandler = \"ecko\"\nsuffix = \"!\""),
             Catch::Contains("unknown handler"));
  CHECK(only_error("\n[[listener]]\nname = \"a\"\nhandler = \"echo\"") ==
        "2:1: listener[1].bind: missing required key 'bind'");
  auto r = parse("[daemon]\n[[listener]]\nsuffix = \"x\"\n");
  REQUIRE(r.errors.size() == 3);
  CHECK(r.errors[0].to_string() == "t.toml:2:1: listener[1].name: missing required key 'name'");
  CHECK(r.errors[1].to_string() == "t.toml:2:1: listener[1].bind: missing required key 'bind'");
  CHECK(r.errors[2].to_string() == "t.toml:2:1: listener[1].handler: missing required key 'handler'");
}

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

TEST_CASE("error::to_string", "[config]") {
  CHECK(error{"f", 1, 2, "k.x", "bad"}.to_string() == "f:1:2: k.x: bad");
  CHECK(error{"f", 0, 0, "", "cannot read"}.to_string() == "f:0:0: cannot read");
}

TEST_CASE("parse_duration", "[config]") {
  duration d{};
  auto ok = [&](std::string_view s, duration want) {
    d = duration{-1};
    return parse_duration(s, d) && d == want;
  };
  CHECK(ok("250ms", 250ms));
  CHECK(ok("5s", 5s));
  CHECK(ok("2m", 2min));
  CHECK(ok("1h", 1h));
  CHECK(ok("30", 30s));
  CHECK(ok("0", 0ms));
  CHECK(ok("0ms", 0ms));
  for (auto bad : {"", "-1", "-1s", "5d", "5 s", " 5s", "1.5s", "s", "ms", "5S", "+5", "99999999999999999999",
                   "9223372036854775807h"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad, d));
  }
}

TEST_CASE("parse_bind", "[config]") {
  bind_address b;
  auto ok = [&](std::string_view s, bind_address want) { return parse_bind(s, b).empty() && b == want; };
  CHECK(ok("127.0.0.1:8002", {"127.0.0.1", 8002}));
  CHECK(ok("*:0", {"*", 0}));
  CHECK(ok("localhost:65535", {"localhost", 65535}));
  CHECK(ok("my-host.example.com:1", {"my-host.example.com", 1}));
  CHECK(ok("[::1]:80", {"::1", 80}));
  CHECK(ok("[::]:80", {"::", 80}));
  CHECK(ok("[fe80::1:2]:80", {"fe80::1:2", 80}));
  CHECK(ok("[::ffff:10.0.0.1]:80", {"::ffff:10.0.0.1", 80}));
  CHECK(ok("[1:2:3:4:5:6:7:8]:80", {"1:2:3:4:5:6:7:8", 80}));
  CHECK(bind_address{"::1", 80}.to_string() == "[::1]:80");
  CHECK(bind_address{"*", 8}.to_string() == "*:8");
  CHECK(bind_address{"10.0.0.1", 0}.to_string() == "10.0.0.1:0");
  CHECK(parse_bind("1.2.3:80", b) == "bad address '1.2.3:80': '1.2.3' is not a valid IPv4 address");
  CHECK(parse_bind("::1:80", b) == "bad address '::1:80': an IPv6 address needs brackets, e.g. [::1]:80");
  CHECK(parse_bind("1.2.3.4:65536", b) == "bad address '1.2.3.4:65536': port must be a number from 0 to 65535");
  CHECK(parse_bind(":80", b) == "bad address ':80': missing host (use '*' for every address)");
  CHECK(parse_bind("[::1]80", b) == "bad address '[::1]80': expected ':PORT' after ']'");
  CHECK(parse_bind("[::g]:80", b) == "bad address '[::g]:80': '::g' is not a valid IPv6 address");
  for (auto bad : {"", "host", "1.2.3.4:", "1.2.3.4:-1", "1.2.3.4:8x", "256.1.1.1:80", "01.2.3.4:80", "a_b:80", "-a:80",
                   "[::1:80", "[1:2:3:4:5:6:7:8:9]:80", "[1::2::3]:80", "[1:2:3:4:5:6:7]:80", "[:1]:80", "[1.2.3.4]:80",
                   "[::1.2.3]:80", "[12345::]:80", "*:", "x y:80"}) {
    INFO(bad);
    CHECK_THAT(parse_bind(bad, b), Catch::StartsWith("bad address '"));
  }
}

TEST_CASE("parse_network", "[config]") {
  network n;
  REQUIRE(parse_network("10.0.0.0/8", n).empty());
  CHECK(n == network{"10.0.0.0/8", {10, 0, 0, 0}, 8});
  REQUIRE(parse_network("192.168.1.7", n).empty());
  CHECK(n.prefix == 32);
  REQUIRE(parse_network("0.0.0.0/0", n).empty());
  CHECK(n.prefix == 0);
  REQUIRE(parse_network("2001:db8::/32", n).empty());
  CHECK(n.addr == std::vector<std::uint8_t>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(n.prefix == 32);
  REQUIRE(parse_network("::1", n).empty());
  CHECK(n.prefix == 128);
  CHECK(parse_network("10.1.2.3/8", n) == "bad network '10.1.2.3/8': host bits set; did you mean 10.0.0.0/8?");
  CHECK(parse_network("2001:db8::1/32", n) ==
        "bad network '2001:db8::1/32': host bits set; did you mean 2001:db8::/32?");
  CHECK(parse_network("10.0.0.0/33", n) == "bad network '10.0.0.0/33': prefix must be a number from 0 to 32");
  CHECK(parse_network("::/129", n) == "bad network '::/129': prefix must be a number from 0 to 128");
  CHECK(parse_network("example.com", n) == "bad network 'example.com': 'example.com' is not an IPv4 or IPv6 address");
  for (auto bad : {"", "/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0/8", "10.0.0.0/8/8", "1::2::3"}) {
    INFO(bad);
    CHECK_THAT(parse_network(bad, n), Catch::StartsWith("bad network '"));
  }
}

TEST_CASE("parse_rate", "[config]") {
  double r = 0;
  CHECK(parse_rate("100/s", r).empty());
  CHECK(r == Approx(100));
  CHECK(parse_rate("600/m", r).empty());
  CHECK(r == Approx(10));
  CHECK(parse_rate("5/h", r).empty());
  CHECK(r == Approx(5.0 / 3600));
  CHECK(parse_rate("0.5/s", r).empty());
  CHECK(r == Approx(0.5));
  CHECK(parse_rate("0/s", r) == "bad rate '0/s': must be more than 0 (leave 'rate' out for no limit)");
  for (auto bad : {"", "100", "100/", "/s", "100/d", "-1/s", "1e3/s", "inf/s", "1./s", "1 /s", "100/ s"}) {
    INFO(bad);
    CHECK_THAT(parse_rate(bad, r), Catch::StartsWith("bad rate '"));
  }
}

TEST_CASE("did_you_mean", "[config]") {
  std::vector<std::string_view> keys{"threads", "log_level", "log_file"};
  CHECK(did_you_mean("thread", keys) == "threads");
  CHECK(did_you_mean("treads", keys) == "threads");
  CHECK(did_you_mean("log_fiel", keys) == "log_file");  // a swap is two edits
  CHECK(did_you_mean("log_levl", keys) == "log_level");
  CHECK(did_you_mean("colour", keys).empty());
  CHECK(did_you_mean("log_filexyz", keys).empty());     // three edits away
  CHECK(did_you_mean("ab", {"abc", "abd"}) == "abc");   // ties go to the first
  CHECK(did_you_mean("abd", {"abc", "abd"}) == "abd");  // closer wins over first
  CHECK(did_you_mean("x", {}).empty());
}

TEST_CASE("the built-in config follows the contract", "[config]") {
  auto r = parse_config(builtin_config_text(), "<built-in>");
  INFO(all_errors(r));
  REQUIRE(r.ok());
  auto cfg = builtin_config("unix:/tmp/plexd-test/control.sock");
  CHECK(cfg.source == "<built-in>");
  CHECK(cfg.control.endpoint == "unix:/tmp/plexd-test/control.sock");
  CHECK(cfg.daemon.log_level == "info");
  CHECK(cfg.daemon.threads == 1);
  CHECK(cfg.daemon.shutdown_grace == 5s);
  CHECK_FALSE(cfg.metrics.listen.has_value());
  REQUIRE(cfg.listeners.size() == 4);
  const auto& l = cfg.listeners;
  CHECK((l[0].name == "echo" && l[0].bind == bind_address{"127.0.0.1", 8002} && l[0].handler == "echo"));
  CHECK(std::get<echo_options>(l[0].options) == echo_options{framing::raw, "", " Roger that."});
  CHECK((l[1].name == "hello" && l[1].bind == bind_address{"127.0.0.1", 8003} && l[1].handler == "greet"));
  CHECK(std::get<greet_options>(l[1].options).message == "Hello");
  CHECK((l[2].name == "chat" && l[2].bind == bind_address{"127.0.0.1", 8008} && l[2].handler == "chat"));
  CHECK(std::get<chat_options>(l[2].options) == chat_options{});
  CHECK((l[3].name == "discard" && l[3].bind == bind_address{"127.0.0.1", 8009} && l[3].handler == "discard"));
  CHECK(builtin_config("").control.endpoint.empty());
}

TEST_CASE("the built-in text documents every key at its default", "[config]") {
  // Uncomment every "# key = value" line: apart from the examples that are not
  // defaults (endpoint, rate, burst, line_burst), the config must not change.
  std::string text(builtin_config_text()), uncommented;
  std::istringstream in(text);
  std::regex commented_key(R"(^# ([a-z_]+) = (.*)$)");
  std::set<std::string> documented;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, commented_key)) {
      documented.insert(m[1].str());
      if (m[1] != "endpoint" && m[1] != "rate" && m[1] != "burst" && m[1] != "line_burst") line = line.substr(2);
    }
    uncommented += line + "\n";
  }
  auto full = parse_config(uncommented, "<uncommented>");
  INFO(all_errors(full));
  REQUIRE(full.ok());
  auto builtin = builtin_config("");
  REQUIRE(full.cfg.listeners.size() == builtin.listeners.size());
  for (std::size_t i = 0; i < builtin.listeners.size(); ++i) {
    CHECK(full.cfg.listeners[i].options == builtin.listeners[i].options);
    CHECK(full.cfg.listeners[i].max_connections == builtin.listeners[i].max_connections);
    CHECK(full.cfg.listeners[i].idle_timeout == builtin.listeners[i].idle_timeout);
    CHECK(full.cfg.listeners[i].max_line == builtin.listeners[i].max_line);
    CHECK(full.cfg.listeners[i].max_output == builtin.listeners[i].max_output);
    CHECK(full.cfg.listeners[i].max_per_source == builtin.listeners[i].max_per_source);
  }
  CHECK(full.cfg.daemon.log_file_max_bytes == builtin.daemon.log_file_max_bytes);
  CHECK(full.cfg.daemon.log_file_count == builtin.daemon.log_file_count);
  CHECK(full.cfg.daemon.shutdown_grace == builtin.daemon.shutdown_grace);
  CHECK(full.cfg.daemon.threads == builtin.daemon.threads);
  CHECK(full.cfg.metrics.allow_remote == builtin.metrics.allow_remote);
  // Every key the loader knows appears in the example.
  for (auto key : {"log_level",      "log_file",        "log_file_max_bytes",
                   "log_file_count", "threads",         "shutdown_grace",
                   "user",           "endpoint",        "listen",
                   "allow_remote",   "max_connections", "idle_timeout",
                   "max_line",       "max_output",      "allow",
                   "deny",           "max_per_source",  "rate",
                   "burst",          "framing",         "prefix",
                   "message",        "await_reply",     "format",
                   "announce",       "welcome",         "goodbye",
                   "accept_proxy",   "proxy_from"}) {
    INFO(key);
    CHECK(documented.count(key) == 1);
  }
}

TEST_CASE("load_config_file", "[config]") {
  auto dir = std::filesystem::temp_directory_path() / ("plexd_test_config_" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "plexd.toml").string();
  std::ofstream(path) << "[daemon]\nthreads = 4\n";
  auto r = load_config_file(path);
  INFO(all_errors(r));
  CHECK(r.ok());
  CHECK(r.cfg.source == path);
  CHECK(r.cfg.daemon.threads == 4);
  std::ofstream(path) << "[daemon]\nthreads = 999\n";
  r = load_config_file(path);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == path + ":2:11: daemon.threads: out of range: must be between 0 and 256, got 999");
  auto missing = (dir / "missing.toml").string();
  r = load_config_file(missing);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 0);
  CHECK(r.errors[0].column == 0);
  CHECK_THAT(r.errors[0].to_string(), Catch::StartsWith(missing + ":0:0: cannot read the config file: "));
  CHECK_THAT(load_config_file(dir.string()).errors.at(0).message, Catch::Contains("directory"));
  std::filesystem::remove_all(dir);
}
