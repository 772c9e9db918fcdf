// The Prometheus endpoint: the status counters in the exposition format.
#include <catch2/catch.hpp>

#include <regex>

#include "harness.hpp"

using namespace plexd::test;

TEST_CASE("GET /metrics exposes exact per-listener counters", "[metrics]") {
  plexd_daemon d("[[listener]]\nname = \"echo\"\nbind = \"127.0.0.1:0\"\nhandler = \"echo\"\n",
                 "[daemon]\nlog_level = \"debug\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n");
  REQUIRE(d.wait_ready());
  std::smatch m;
  const auto log = d.log();
  REQUIRE(std::regex_search(log, m, std::regex("metrics: http://127\\.0\\.0\\.1:(\\d+)/metrics")));
  const auto port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  client c;
  REQUIRE(c.connect(d.port("echo")));
  c.send("12345");
  REQUIRE(c.read_exact(5) == "12345");

  client http;
  REQUIRE(http.connect(port));
  http.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto reply = http.read_until_closed(5s);
  CHECK(reply.rfind("HTTP/1.0 200 OK", 0) == 0);
  CHECK(reply.find("# TYPE plexd_bytes_received_total counter") != std::string::npos);
  CHECK(reply.find("plexd_bytes_received_total{listener=\"echo\",handler=\"echo\"} 5\n") != std::string::npos);
  CHECK(reply.find("plexd_connections_active{listener=\"echo\",handler=\"echo\"} 1\n") != std::string::npos);
  CHECK(reply.find("plexd_connections_refused_total{listener=\"echo\",reason=\"max_connections\"} 0\n") !=
        std::string::npos);

  client other;
  REQUIRE(other.connect(port));
  other.send("GET / HTTP/1.0\r\n\r\n");
  CHECK(other.read_until_closed(5s).rfind("HTTP/1.0 404", 0) == 0);
  client junk;
  REQUIRE(junk.connect(port));
  junk.send(std::string(20000, 'j'));
  CHECK(junk.wait_closed(5s));  // oversized head: closed, nothing else happens
}
