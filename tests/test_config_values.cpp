// Config loader: the value parsers on their own (durations, addresses,
// networks, rates, suggestions), the built-in default against the contract,
// and loading from a file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "config_text.hpp"
#include "plexd/config/loader.hpp"

using namespace plexd::config;
using namespace plexd::test;
using namespace std::chrono_literals;

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
