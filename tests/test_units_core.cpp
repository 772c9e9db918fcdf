// Unit tests of pure logic in core/: the token bucket and per-source counts,
// the log ring, the control request handler and the metrics text. No
// sockets, no daemon: each case drives one function with chosen inputs.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "core/src/access.hpp"
#include "plexd/core/control.hpp"
#include "plexd/core/json.hpp"
#include "plexd/core/logging.hpp"
#include "plexd/core/metrics_http.hpp"

using namespace plexd;
using namespace std::chrono_literals;

namespace {
config::listener_config with_rate(double per_second, double burst) {
  config::listener_config cfg;
  cfg.rate.per_second = per_second;
  cfg.rate.burst = burst;
  return cfg;
}

const asio::ip::address loopback = asio::ip::make_address("127.0.0.1");
}  // namespace

TEST_CASE("token bucket admits a burst, then one per interval", "[access][unit]") {
  core::access_policy policy(with_rate(10, 3));
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(policy.admit(loopback, "127.0.0.1", t0).has_value());
    policy.release("127.0.0.1");
  }
  auto refused = policy.admit(loopback, "127.0.0.1", t0);
  REQUIRE(refused.has_value());
  CHECK(*refused == core::refusal::rate);
  // 10 per second: one token back after 100 ms, not before.
  CHECK(policy.admit(loopback, "127.0.0.1", t0 + 50ms).has_value());
  CHECK_FALSE(policy.admit(loopback, "127.0.0.1", t0 + 150ms).has_value());
  // A long pause refills only up to the burst.
  int admitted = 0;
  for (int i = 0; i < 10; ++i) {
    if (!policy.admit(loopback, "127.0.0.1", t0 + 1h).has_value()) ++admitted;
  }
  CHECK(admitted == 3);
}

TEST_CASE("per-source counts are released per key", "[access][unit]") {
  config::listener_config cfg;
  cfg.max_per_source = 2;
  core::access_policy policy(cfg);
  const auto now = std::chrono::steady_clock::now();
  CHECK_FALSE(policy.admit(loopback, "127.0.0.1", now).has_value());
  CHECK_FALSE(policy.admit(loopback, "127.0.0.1", now).has_value());
  auto third = policy.admit(loopback, "127.0.0.1", now);
  REQUIRE(third.has_value());
  CHECK(*third == core::refusal::max_per_source);
  CHECK_FALSE(policy.admit(asio::ip::make_address("127.0.0.2"), "127.0.0.2", now).has_value());
  policy.release("127.0.0.1");
  CHECK_FALSE(policy.admit(loopback, "127.0.0.1", now).has_value());
}

TEST_CASE("log ring keeps the newest records across wrap-around", "[logging][unit]") {
  core::log_ring ring(4);
  for (int i = 1; i <= 10; ++i) {
    core::log_record r;
    r.text = "record " + std::to_string(i);
    ring.push(r);
  }
  const auto all = ring.last(100);
  REQUIRE(all.size() == 4);
  CHECK(all.front().text == "record 7");
  CHECK(all.back().text == "record 10");
  CHECK(all.back().seq == 10);
  const auto two = ring.last(2);
  REQUIRE(two.size() == 2);
  CHECK(two[0].text == "record 9");
  CHECK(ring.last(0).empty());
}

TEST_CASE("log ring subscribers see each record once", "[logging][unit]") {
  core::log_ring ring(2);
  int seen = 0;
  const auto id = ring.subscribe([&](const core::log_record&) { ++seen; });
  ring.push({});
  ring.push({});
  ring.unsubscribe(id);
  ring.push({});
  CHECK(seen == 2);
}

namespace {
core::control_callbacks callbacks(int& reloads) {
  core::control_callbacks cb;
  cb.status = [] { return core::json::value(core::json::object{{"pid", core::json::value(42)}}); };
  cb.reload = [&reloads] {
    ++reloads;
    return core::json::value(core::json::object{{"ok", core::json::value(true)}});
  };
  cb.logs = std::make_shared<core::log_ring>(8);
  cb.version = "9.9.9";
  return cb;
}

core::json::value reply(const std::string& line, const core::control_callbacks& cb, core::reply_action& action) {
  const auto r = core::handle_control_request(line, cb);
  action = r.action;
  auto parsed = core::json::parse(r.line);
  REQUIRE(parsed.ok());
  return parsed.value();
}
}  // namespace

TEST_CASE("control requests: each command and each malformed shape", "[control][unit]") {
  int reloads = 0;
  const auto cb = callbacks(reloads);
  core::reply_action action{};
  auto ping = reply(R"({"v":1,"cmd":"ping"})", cb, action);
  CHECK(ping["ok"].as_bool());
  CHECK(ping["version"].as_string() == "9.9.9");
  CHECK(action == core::reply_action::answer);
  CHECK(reply(R"({"v":1,"cmd":"status"})", cb, action)["status"]["pid"].as_number() == 42);
  CHECK(reply(R"({"v":1,"cmd":"reload"})", cb, action)["ok"].as_bool());
  CHECK(reloads == 1);
  reply(R"({"v":1,"cmd":"logs","n":5,"follow":true})", cb, action);
  CHECK(action == core::reply_action::follow);
  // Not a request at all (another protocol talking to the port): answered, then closed.
  for (const char* junk : {"", "not json", "[]", "POST / HTTP/1.1", R"({"v":1})"}) {
    INFO(junk);
    auto r = reply(junk, cb, action);
    CHECK_FALSE(r["ok"].as_bool());
    CHECK(action == core::reply_action::close);
  }
  // A request this version does not know: an error, and the connection stays.
  for (const char* unknown : {R"({"v":2,"cmd":"status"})", R"({"v":1,"cmd":"nope"})"}) {
    INFO(unknown);
    auto r = reply(unknown, cb, action);
    CHECK_FALSE(r["ok"].as_bool());
    CHECK_FALSE(r["error"].as_string().empty());
    CHECK(action == core::reply_action::answer);
  }
  CHECK(reloads == 1);
}

TEST_CASE("metrics text: one family header, labelled samples, exact counters", "[metrics][unit]") {
  core::listener_status l;
  l.name = "echo";
  l.handler = "echo";
  l.state = "listening";
  l.active = 3;
  l.accepted = 120;
  l.bytes_in = 5120;
  l.refused = 2;
  l.refused_by["rate"] = 2;
  core::daemon_gauges g;
  g.uptime_s = 1.5;
  g.config_generation = 2;
  const auto text = core::metrics_text({l, l}, g);
  CHECK(text.find("plexd_config_generation 2") != std::string::npos);
  CHECK(text.find("listener=\"echo\"") != std::string::npos);
  CHECK(text.find("5120") != std::string::npos);
  // Each family is declared once even with several listeners.
  const std::string type_line = "# TYPE plexd_uptime_seconds gauge";
  const auto first = text.find(type_line);
  REQUIRE(first != std::string::npos);
  CHECK(text.find(type_line, first + 1) == std::string::npos);
  CHECK(text.back() == '\n');
}
