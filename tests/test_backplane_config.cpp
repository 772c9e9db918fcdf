// [backplane] and the chat `room` option in the config: the URL forms, the
// errors with FILE:LINE:COL, and the password kept out of every message.
#include <catch2/catch.hpp>

#include "plexd/config/loader.hpp"
#include "plexd/core/metrics_http.hpp"

using namespace plexd::config;

namespace {
load_result with_url(const std::string& url) {
  return parse_config("[backplane]\nredis = \"" + url + "\"\ninstance = \"web-1\"\n", "t.toml");
}
}  // namespace

TEST_CASE("backplane: redis URLs are parsed - host, port, database, password", "[backplane]") {
  auto r = with_url("redis://:pa:ss@w0rd@10.0.0.9:6380/3");
  REQUIRE(r.ok());
  CHECK(r.cfg.backplane.host == "10.0.0.9");
  CHECK(r.cfg.backplane.port == 6380);
  CHECK(r.cfg.backplane.db == 3);
  CHECK(r.cfg.backplane.password == "pa:ss@w0rd");
  CHECK(r.cfg.backplane.instance == "web-1");
  CHECK(r.cfg.backplane.describe() == "10.0.0.9:6380/3");

  r = with_url("redis://cache.example");
  REQUIRE(r.ok());
  CHECK(r.cfg.backplane.port == 6379);
  CHECK(r.cfg.backplane.db == 0);
  r = with_url("redis://[::1]:7000");
  REQUIRE(r.ok());
  CHECK(r.cfg.backplane.describe() == "[::1]:7000/0");
  r = with_url("");
  REQUIRE(r.ok());
  CHECK_FALSE(r.cfg.backplane.enabled());
}

TEST_CASE("backplane: bad redis URLs are errors at the value - without the password", "[backplane]") {
  for (const std::string url :
       {"http://:Sekr1t@h:1", "redis://:Sekr1t@h:0", "redis://:Sekr1t@h:65536", "redis://:Sekr1t@h:1/x",
        "redis://user:Sekr1t@h:1", "redis://:Sekr1t@bad_host:1", "redis://:Sekr1t@[::1:1", "redis://:@h:1",
        "redis://:Sekr1t@h:", "rediss://:Sekr1t@h:1"}) {
    INFO(url);
    const auto r = with_url(url);
    REQUIRE(r.errors.size() == 1);
    const auto text = r.errors[0].to_string();
    CHECK(text.rfind("t.toml:2:9: backplane.redis: ", 0) == 0);
    CHECK(text.find("Sekr1t") == std::string::npos);
  }
}

TEST_CASE("backplane: room belongs to chat only - names are checked", "[backplane]") {
  auto r = parse_config("[[listener]]\nname = \"e\"\nbind = \"127.0.0.1:1\"\nhandler = \"echo\"\nroom = \"lobby\"\n",
                        "t.toml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() ==
        "t.toml:5:1: listener[1].room: 'room' is not an option of handler 'echo' (it "
        "belongs to chat)");
  r = parse_config("[[listener]]\nname = \"c\"\nbind = \"127.0.0.1:1\"\nhandler = \"chat\"\nroom = \"a b\"\n",
                   "t.toml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key == "listener[1].room");
  r = parse_config("[backplane]\ninstance = \"x/y\"\nredis = 5\n", "t.toml");
  CHECK(r.errors.size() == 2);
  r = parse_config("[[listener]]\nname = \"c\"\nbind = \"127.0.0.1:1\"\nhandler = \"chat\"\nroom = \"lobby-1.a\"\n",
                   "t.toml");
  REQUIRE(r.ok());
  CHECK(std::get<chat_options>(r.cfg.listeners[0].options).room == "lobby-1.a");
}

TEST_CASE("backplane: Prometheus gets plexd_backplane_up and the counters", "[backplane]") {
  plexd::core::daemon_gauges g;
  auto text = plexd::core::metrics_text({}, g);
  CHECK(text.find("\nplexd_backplane_up 0\n") != std::string::npos);
  g.backplane.state = "up";
  g.backplane.published = 7;
  g.backplane.received = 9;
  g.backplane.reconnects = 2;
  text = plexd::core::metrics_text({}, g);
  CHECK(text.find("\nplexd_backplane_up 1\n") != std::string::npos);
  CHECK(text.find("\nplexd_backplane_published_total 7\n") != std::string::npos);
  CHECK(text.find("\nplexd_backplane_received_total 9\n") != std::string::npos);
  CHECK(text.find("\nplexd_backplane_reconnects_total 2\n") != std::string::npos);
  CHECK(text.find("# TYPE plexd_backplane_dropped_total counter") != std::string::npos);
}
