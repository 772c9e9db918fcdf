// Config loader: every key of every table with its default and its values,
// and the errors of wrong types and values with their exact position.
#include <catch2/catch.hpp>

#include <string>

#include "config_text.hpp"
#include "plexd/config/loader.hpp"

using namespace plexd::config;
using namespace plexd::test;
using namespace std::chrono_literals;

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
