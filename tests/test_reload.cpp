// Reload: validate first, apply by difference, never drop a survivor.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include <asio/ip/tcp.hpp>

#include "harness.hpp"
#include "plexd/core/json.hpp"

using namespace plexd::test;
namespace json = plexd::core::json;

namespace {

std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}
}  // namespace

TEST_CASE("reload adds - removes and changes listeners while a chat client stays connected", "[reload]") {
  const auto chat_bind = "127.0.0.1:" + std::to_string(free_port());
  const auto chat = listener_toml("room", "chat", "announce = false", chat_bind);
  plexd_daemon d(chat + listener_toml("old", "echo") + listener_toml("greeter", "greet", "message = \"v1\""));
  REQUIRE(d.wait_ready());
  client a, b;
  REQUIRE(a.connect(d.port("room")));
  REQUIRE(b.connect(d.port("room")));
  REQUIRE(d.wait_log("connected"));
  const auto old_port = d.port("old");

  d.rewrite(chat + listener_toml("greeter", "greet", "message = \"v2\"") +
            listener_toml("new", "echo", "suffix = \"+\""));
  auto r = d.cli({"reload"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("reload ok") != std::string::npos);

  // The chat pair never noticed.
  a.send("after reload\n");
  auto got = b.read_line();
  REQUIRE(got);
  CHECK(got->find("after reload") != std::string::npos);
  // The new listener serves, the changed one uses its new message, the removed one is gone.
  client n;
  REQUIRE(n.connect(d.port("new")));
  n.send("x");
  CHECK(n.read_exact(2) == "x+");
  client g;
  REQUIRE(g.connect(d.port("greeter")));
  CHECK(g.read_until_closed(5s) == "v2");
  client o;
  CHECK_FALSE(o.connect(old_port, 1s));
  auto st = status_json(d);
  CHECK(st["config_generation"].as_number() == 2);
  CHECK(st["last_reload"]["ok"].as_bool());
  std::vector<std::string> names;
  for (const auto& l : st["listeners"].as_array()) names.push_back(l["name"].as_string());
  CHECK(names == std::vector<std::string>{"room", "greeter", "new"});
}

TEST_CASE("new options apply to connections already open", "[reload]") {
  plexd_daemon d(listener_toml("echo", "echo", "suffix = \" v1\""));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("echo")));
  c.send("a");
  CHECK(c.read_exact(4) == "a v1");
  d.rewrite(listener_toml("echo", "echo", "suffix = \" v2\""));
  REQUIRE(d.cli({"reload"}).exit_code == 0);
  c.send("b");
  CHECK(c.read_exact(4) == "b v2");
}

TEST_CASE("an invalid reload changes nothing and reports every error with its position", "[reload]") {
  plexd_daemon d(listener_toml("echo", "echo", "suffix = \"!\""));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("echo")));
  // One error of each kind.
  d.rewrite(listener_toml("echo", "echo", "suffixx = \"?\"") +            // unknown key (did you mean)
            listener_toml("g", "greet", "framing = \"line\"") +           // key of another handler
            listener_toml("t", "echo", "max_line = \"big\"") +            // wrong type
            listener_toml("u", "echo", "idle_timeout = \"5 parsecs\"") +  // bad duration
            listener_toml("v", "echo", "", "300.1.1.1:80") +              // bad address
            listener_toml("echo", "discard") +                            // duplicate name
            listener_toml("w", "echo", "", "127.0.0.1:7") +
            listener_toml("x", "echo", "", "127.0.0.1:7") +       // same address
            "[[listener]]\nname = \"y\"\nhandler = \"echo\"\n");  // missing key
  auto r = d.cli({"reload"});
  CHECK(r.exit_code == 1);
  for (const char* expected : {"did you mean 'suffix'", "suffix", "framing", "max_line", "idle_timeout", "300.1.1.1",
                               "duplicate", "127.0.0.1:7", "bind"}) {
    CHECK(r.err.find(expected) != std::string::npos);
  }
  CHECK(r.err.find(d.config_path() + ":") != std::string::npos);
  // Still serving, on the old config.
  c.send("same");
  CHECK(c.read_exact(5) == "same!");
  auto st = status_json(d);
  CHECK(st["config_generation"].as_number() == 1);
  CHECK_FALSE(st["last_reload"]["ok"].as_bool(true));
  CHECK(st["last_reload"]["errors"].as_array().size() == 8);
  CHECK(d.wait_log("reload rejected"));
}

TEST_CASE("SIGHUP reloads", "[reload]") {
  plexd_daemon d(listener_toml("echo", "echo"));
  REQUIRE(d.wait_ready());
  d.rewrite(listener_toml("echo", "echo") + listener_toml("more", "discard"));
  if (!d.process().request_reload()) {
    SUCCEED("no SIGHUP on this system");
    return;
  }
  CHECK(d.wait_log("config generation 2"));
  CHECK(d.port("more") != 0);
  CHECK(status_json(d)["config_generation"].as_number() == 2);
}

TEST_CASE("a listener whose new bind fails is a failed part and the rest keeps running", "[reload]") {
  asio::io_context io;
  asio::ip::tcp::acceptor taken(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto busy = "127.0.0.1:" + std::to_string(taken.local_endpoint().port());
  plexd_daemon d(listener_toml("echo", "echo"));
  REQUIRE(d.wait_ready());
  d.rewrite(listener_toml("echo", "echo", "suffix = \"!\"") + listener_toml("blocked", "echo", "", busy));
  auto r = d.cli({"reload"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("listener 'blocked' on " + busy) != std::string::npos);
  client c;
  REQUIRE(c.connect(d.port("echo")));
  c.send("y");
  CHECK(c.read_exact(2) == "y!");  // the valid part applied
  auto st = status_json(d);
  CHECK_FALSE(st["last_reload"]["ok"].as_bool(true));
}

TEST_CASE("reloads during a steady echo load lose and corrupt no byte", "[reload]") {
  plexd_daemon d(listener_toml("echo", "echo") + listener_toml("spare", "discard"));
  REQUIRE(d.wait_ready());
  const auto port = d.port("echo");
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> verified{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      client c;
      if (!c.connect(port)) {
        ++failures;
        return;
      }
      std::uint32_t seq = static_cast<std::uint32_t>(t) << 24;
      while (!done) {
        std::string msg;
        for (int i = 0; i < 64; ++i) msg += "m" + std::to_string(seq++) + ";";
        c.send(msg);
        if (c.read_exact(msg.size(), 5s) != msg) {
          ++failures;
          return;
        }
        verified += msg.size();
      }
    });
  }
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(50ms);
    d.rewrite(listener_toml("echo", "echo", "max_output = " + std::to_string(1048576 + i)) +
              (i % 2 == 0 ? std::string() : listener_toml("spare", "discard")));
    CHECK(d.cli({"reload"}).exit_code == 0);
  }
  done = true;
  for (auto& w : workers) w.join();
  CHECK(failures == 0);
  CHECK(verified > 0);
  CHECK(status_json(d)["config_generation"].as_number() == 11);
}

TEST_CASE("the CLI reaches the daemon while the config file has errors", "[reload]") {
  const auto control = "tcp:127.0.0.1:" + std::to_string(free_port());
  const std::string daemon_toml = "[daemon]\nlog_level = \"debug\"\n[control]\nendpoint = \"" + control + "\"\n";
  plexd_daemon d(listener_toml("echo", "echo"), daemon_toml);
  REQUIRE(d.wait_ready());
  d.rewrite(listener_toml("echo", "echo", "max_line = \"lots\""), daemon_toml);
  // No --control: the endpoint comes from the broken file itself.
  auto r = run_plexd({"reload", "-c", d.config_path()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("reload rejected") != std::string::npos);  // the daemon's answer
  CHECK(r.err.find("max_line") != std::string::npos);
  CHECK(run_plexd({"status", "-c", d.config_path()}).exit_code == 0);
}
