// Per-listener limits: max_output, max_line, max_connections, idle_timeout.
#include <catch2/catch.hpp>

#include <thread>

#include "harness.hpp"
#include "plexd/core/json.hpp"

using namespace plexd::test;

namespace {

// Round-trip time of one echo, to show a bystander is not slowed.
bool echo_ok(client& c, const std::string& msg) {
  c.send(msg);
  return c.read_exact(msg.size(), 5s) == msg;
}
}  // namespace

TEST_CASE("a chat client that never reads is disconnected at max_output while the room keeps flowing", "[limits]") {
  plexd_daemon d(listener_toml("chat", "chat", "announce = false\nmax_output = 65536"));
  REQUIRE(d.wait_ready());
  client lazy, sender, reader;
  // The lazy client's receive window must fill: make it tiny before connecting.
  lazy.socket().open(asio::ip::tcp::v4());
  lazy.socket().set_option(asio::socket_base::receive_buffer_size(4096));
  REQUIRE(lazy.connect(d.port("chat")));
  REQUIRE(sender.connect(d.port("chat")));
  REQUIRE(reader.connect(d.port("chat")));
  REQUIRE(d.wait_log("connected"));
  const std::string line(1000, 'x');
  constexpr int lines_per_send = 10;
  std::string lines;
  for (int k = 0; k < lines_per_send; ++k) lines += line + "\n";
  // Beyond the kernel's buffers (several MB on loopback), plexd's own queue
  // fills. Ten lines per round trip keep that a few thousand round trips,
  // quick under Wine too; the reader takes every line.
  for (int i = 0; i < 3000; ++i) {
    if (i % 10 == 0 && d.wait_log("not reading", 0ms)) break;
    sender.send(lines);
    (void)reader.read_exact(lines_per_send * (line.size() + 2 + 16), 5s);
  }
  CHECK(d.wait_log("output queue over max_output"));
  // The others keep talking.
  sender.send("still here\n");
  bool found = false;
  for (int i = 0; i < 3000 && !found; ++i) {
    auto l = reader.read_line(5s);
    if (!l) break;
    found = l->find("still here") != std::string::npos;
  }
  CHECK(found);
}

TEST_CASE("an echo client that never reads is disconnected at max_output and others are served", "[limits]") {
  plexd_daemon d(listener_toml("echo", "echo", "max_output = 100000"));
  REQUIRE(d.wait_ready());
  client lazy, good;
  lazy.socket().open(asio::ip::tcp::v4());
  lazy.socket().set_option(asio::socket_base::receive_buffer_size(4096));
  REQUIRE(lazy.connect(d.port("echo")));
  REQUIRE(good.connect(d.port("echo")));
  lazy.socket().non_blocking(true);
  const std::string chunk(65536, 'y');
  for (int i = 0; i < 2000; ++i) {
    if (i % 20 == 0 && d.wait_log("max_output", 0ms)) break;
    asio::error_code ec;
    lazy.socket().write_some(asio::buffer(chunk), ec);
    if (ec && ec != asio::error::would_block) break;
    CHECK(echo_ok(good, "ping"));
  }
  CHECK(d.wait_log("output queue over max_output"));
  CHECK(echo_ok(good, "after"));
}

TEST_CASE("a line longer than max_line closes that connection only", "[limits]") {
  plexd_daemon d(listener_toml("echo", "echo", "framing = \"line\"\nmax_line = 1024"));
  REQUIRE(d.wait_ready());
  client bad, good;
  REQUIRE(bad.connect(d.port("echo")));
  REQUIRE(good.connect(d.port("echo")));
  bad.send(std::string(1 << 20, 'z'));  // 1 MiB, no newline
  CHECK(bad.wait_closed(5s));
  CHECK(d.wait_log("longer than max_line"));
  good.send("fine\n");
  CHECK(good.read_line() == "fine");
}

TEST_CASE("max_connections refuses the excess at once and counts it", "[limits]") {
  plexd_daemon d(listener_toml("echo", "echo", "max_connections = 2"));
  REQUIRE(d.wait_ready());
  client a, b, c;
  REQUIRE(a.connect(d.port("echo")));
  REQUIRE(b.connect(d.port("echo")));
  REQUIRE(echo_ok(a, "1"));
  REQUIRE(echo_ok(b, "2"));
  REQUIRE(c.connect(d.port("echo")));
  CHECK(c.wait_closed(2s));
  CHECK(d.wait_log("refused 127.0.0.1"));
  CHECK(echo_ok(a, "still"));
  a.close();
  // A slot frees up once the daemon has seen the close.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    client again;
    REQUIRE(again.connect(d.port("echo")));
    again.send("x");
    served = again.read_exact(1, 200ms) == "x";
  }
  CHECK(served);
  // At least the one above; retries racing the close may add more.
  auto s = plexd::core::json::parse(d.cli({"status", "--json"}).out);
  REQUIRE(s.ok());
  const auto& echo = s.value()["listeners"].as_array().at(0);
  CHECK(echo["refused"].as_number() >= 1);
  CHECK(echo["refused_by"]["max_connections"].as_number() == echo["refused"].as_number());
}

TEST_CASE("idle_timeout closes silent connections - not busy ones", "[limits]") {
  plexd_daemon d(listener_toml("echo", "echo", "idle_timeout = \"400ms\""));
  REQUIRE(d.wait_ready());
  client idle, busy;
  REQUIRE(idle.connect(d.port("echo")));
  REQUIRE(busy.connect(d.port("echo")));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(100ms);
    CHECK(echo_ok(busy, "k"));
  }
  CHECK(idle.wait_closed(3s));
  CHECK(std::chrono::steady_clock::now() - start >= 400ms);
  CHECK(echo_ok(busy, "alive"));
  CHECK(d.wait_log("idle for"));
}
