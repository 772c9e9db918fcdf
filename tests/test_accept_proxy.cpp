// accept_proxy and proxy_from with the real daemon: the address a PROXY
// header carries becomes the peer everywhere, a connection without a valid
// header within 5 s is closed (and counted), and bystanders are unharmed.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "plexd/core/json.hpp"

using namespace plexd::test;
namespace json = plexd::core::json;

namespace {

std::string proxied(const std::string& name, const std::string& handler, const std::string& extra = "") {
  return listener_toml(name, handler, "accept_proxy = true\nproxy_from = [\"127.0.0.0/8\"]\n" + extra);
}

std::string v1(const std::string& src, std::uint16_t sport) {
  return "PROXY TCP4 " + src + " 127.0.0.1 " + std::to_string(sport) + " 8002\r\n";
}

std::string be16(std::size_t v) {
  return {static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
}

// A v2 PROXY header for TCP over IPv4 from a.b.c.d:sport, with `tlvs` after the addresses.
std::string v2(unsigned char a, unsigned char b, unsigned char c, unsigned char d, std::uint16_t sport,
               const std::string& tlvs = "") {
  std::string addrs{
      static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d), 127, 0, 0, 1};
  addrs += be16(sport) + be16(8002) + tlvs;
  return std::string("\r\n\r\n\0\r\nQUIT\n", 12) + "\x21\x11" + be16(addrs.size()) + addrs;
}

const json::value* listener_status(const json::value& st, const std::string& name) {
  for (const auto& l : st["listeners"].as_array()) {
    if (l["name"].as_string() == name) return &l;
  }
  return nullptr;
}

double counter(plexd_daemon& d, const std::string& name, const std::string& key) {
  const auto st = status_json(d);
  const auto* l = listener_status(st, name);
  REQUIRE(l != nullptr);
  return (*l)[key].as_number();
}

double refused_by(plexd_daemon& d, const std::string& name, const std::string& reason) {
  const auto st = status_json(d);
  const auto* l = listener_status(st, name);
  REQUIRE(l != nullptr);
  return (*l)["refused_by"][reason].as_number();
}

// Echo answers through a connection that first sent `header`.
bool echoed(std::uint16_t port, const std::string& header) {
  client c;
  if (!c.connect(port, 2s)) return false;
  c.send(header + "ping");
  return c.read_exact(4, 3s) == "ping";
}

}  // namespace

TEST_CASE("v1: the carried address is chat's {peer} and in the log", "[accept_proxy]") {
  plexd_daemon d(proxied("room", "chat"));
  REQUIRE(d.wait_ready());
  client a, b;
  REQUIRE(a.connect(d.port("room")));
  a.send(v1("203.0.113.7", 4242));
  REQUIRE(b.connect(d.port("room")));
  b.send(v1("198.51.100.23", 5353));
  CHECK(a.read_line() == "* 198.51.100.23:5353 joined");
  a.send("hello\n");
  CHECK(b.read_line() == "203.0.113.7:4242: hello");
  CHECK(d.wait_log("203.0.113.7:4242 connected"));
  CHECK(d.log().find("127.0.0.1:" + std::to_string(a.local_port()) + " connected") == std::string::npos);
}

TEST_CASE("v2: payload in the same write as the header reaches the handler", "[accept_proxy]") {
  plexd_daemon d(proxied("echo", "echo"));
  REQUIRE(d.wait_ready());
  const std::string tlvs = std::string("\x04\x00\x03", 3) + "abc" + std::string("\x01\x00\x02", 3) + "h2";
  client c;
  REQUIRE(c.connect(d.port("echo")));
  // The largest single write: header, then 200 KiB of binary payload at once.
  std::string payload(200 * 1024, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7 + 3);
  c.send(v2(192, 0, 2, 44, 61000, tlvs) + payload);
  CHECK(c.read_exact(payload.size(), 10s) == payload);
  CHECK(d.wait_log("192.0.2.44:61000 connected"));
  client v1c;
  REQUIRE(v1c.connect(d.port("echo")));
  v1c.send(v1("192.0.2.45", 1) + "x");
  CHECK(v1c.read_exact(1) == "x");
  CHECK(counter(d, "echo", "accepted") == 2);
  CHECK(counter(d, "echo", "errors") == 0);
}

TEST_CASE("a header split over several writes is put together", "[accept_proxy]") {
  plexd_daemon d(proxied("echo", "echo"));
  REQUIRE(d.wait_ready());
  for (const auto& header : {v1("192.0.2.9", 9), v2(192, 0, 2, 10, 10)}) {
    client c;
    REQUIRE(c.connect(d.port("echo")));
    for (char byte : header) {  // the slowest honest sender: one byte per write
      c.send(std::string(1, byte));
      std::this_thread::sleep_for(5ms);
    }
    c.send("after");
    CHECK(c.read_exact(5) == "after");
  }
  CHECK(d.wait_log("192.0.2.9:9 connected"));
  CHECK(d.wait_log("192.0.2.10:10 connected"));
}

TEST_CASE("a connection without a valid header is closed at once and counted", "[accept_proxy]") {
  plexd_daemon d(proxied("echo", "echo"));
  REQUIRE(d.wait_ready());
  client bystander;
  REQUIRE(bystander.connect(d.port("echo")));
  bystander.send(v1("192.0.2.1", 1));
  const std::vector<std::string> bad = {
      "hello\n",                                                                       // plain data: no header at all
      "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n",                                          // malformed (LF only)
      "PROXY TCP4 192.0.2.300 192.0.2.2 1 2\r\nping",                                  // malformed address
      "PROXY UNKNOWN " + std::string(4096, 'x'),                                       // v1 oversized
      std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11\xFF\xFF", 16),                         // v2 claiming 64 KiB
      std::string("\r\n\r\n\0\r\nQUIT\n\x21\x12\x00\x0C", 16) + std::string(12, 'u'),  // UDP
  };
  for (const auto& b : bad) {
    INFO(b.substr(0, 40));
    client c;
    REQUIRE(c.connect(d.port("echo")));
    c.send(b);
    bool closed = false;
    // Refused on the bytes themselves, long before the 5 s deadline.
    const auto got = c.read_until_closed(3s, &closed);
    CHECK(closed);
    CHECK(got.empty());  // not one byte of the payload was handled
  }
  CHECK(counter(d, "echo", "errors") == static_cast<double>(bad.size()));
  CHECK(counter(d, "echo", "accepted") == 1);
  CHECK(d.wait_log("bad PROXY protocol header"));
  bystander.send("still here");
  CHECK(bystander.read_exact(10) == "still here");
}

TEST_CASE("too slow: no complete header within 5 s closes the connection", "[accept_proxy]") {
  plexd_daemon d(proxied("echo", "echo"));
  REQUIRE(d.wait_ready());
  client silent, partial;
  REQUIRE(silent.connect(d.port("echo")));
  REQUIRE(partial.connect(d.port("echo")));
  partial.send("PROXY TCP4 192.0.2.");  // and then nothing more
  // Meanwhile a proper client is served at once.
  CHECK(echoed(d.port("echo"), v1("192.0.2.77", 7)));
  CHECK_FALSE(silent.wait_closed(3s));  // still within its 5 s
  CHECK(silent.wait_closed(8s));
  CHECK(partial.wait_closed(3s));
  CHECK(counter(d, "echo", "errors") == 2);
  CHECK(counter(d, "echo", "active") == 0);
  CHECK(d.wait_log("no complete PROXY protocol header within 5000 ms"));
}

TEST_CASE("a connection that closes without sending anything is not an error", "[accept_proxy]") {
  // What a load balancer's plain TCP health check does.
  plexd_daemon d(proxied("echo", "echo"));
  REQUIRE(d.wait_ready());
  for (int i = 0; i < 5; ++i) {
    client c;
    REQUIRE(c.connect(d.port("echo")));
    c.close();
  }
  CHECK(echoed(d.port("echo"), v1("192.0.2.1", 1)));
  bool drained = false;
  for (int i = 0; i < 100 && !drained; ++i) {
    drained = counter(d, "echo", "active") == 0;
    if (!drained) std::this_thread::sleep_for(20ms);
  }
  CHECK(drained);
  CHECK(counter(d, "echo", "errors") == 0);
}

TEST_CASE("UNKNOWN and LOCAL headers leave the connection's own address as the peer", "[accept_proxy]") {
  plexd_daemon d(proxied("echo", "echo"));
  REQUIRE(d.wait_ready());
  client u, l;
  REQUIRE(u.connect(d.port("echo")));
  u.send("PROXY UNKNOWN\r\nu");
  CHECK(u.read_exact(1) == "u");
  REQUIRE(l.connect(d.port("echo")));
  l.send(std::string("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16) + "l");
  CHECK(l.read_exact(1) == "l");
  CHECK(d.wait_log("127.0.0.1:" + std::to_string(u.local_port()) + " connected"));
  CHECK(d.wait_log("127.0.0.1:" + std::to_string(l.local_port()) + " connected"));
}

TEST_CASE("deny is applied to the carried address, not to the balancer's", "[accept_proxy]") {
  // The balancer (127.0.0.1) is itself in deny: only the carried address counts.
  plexd_daemon d(proxied("echo", "echo", "deny = [\"127.0.0.0/8\", \"203.0.113.0/24\"]"));
  REQUIRE(d.wait_ready());
  CHECK(echoed(d.port("echo"), v1("198.51.100.1", 1000)));
  client c;
  REQUIRE(c.connect(d.port("echo")));
  c.send(v1("203.0.113.9", 1001) + "ping");
  bool closed = false;
  CHECK(c.read_until_closed(3s, &closed).empty());
  CHECK(closed);
  CHECK(refused_by(d, "echo", "denied") == 1);
  CHECK(d.wait_log("refused 203.0.113.9:1001 (denied)"));
}

TEST_CASE("max_per_source is keyed by the carried address", "[accept_proxy]") {
  plexd_daemon d(proxied("echo", "echo", "max_per_source = 1"));
  REQUIRE(d.wait_ready());
  client first, second, other;
  REQUIRE(first.connect(d.port("echo")));
  first.send(v1("192.0.2.1", 1) + "1");
  REQUIRE(first.read_exact(1) == "1");
  // Same carried address, another port: over the limit although every
  // connection comes from 127.0.0.1.
  REQUIRE(second.connect(d.port("echo")));
  second.send(v1("192.0.2.1", 2) + "2");
  CHECK(second.wait_closed(3s));
  REQUIRE(other.connect(d.port("echo")));
  other.send(v1("192.0.2.2", 3) + "3");
  CHECK(other.read_exact(1) == "3");
  CHECK(refused_by(d, "echo", "max_per_source") == 1);
  first.close();
  bool again = false;
  for (int i = 0; i < 50 && !again; ++i) {
    std::this_thread::sleep_for(20ms);
    again = echoed(d.port("echo"), v1("192.0.2.1", 4));
  }
  CHECK(again);
}

TEST_CASE("proxy_from refuses a connecting address not in the list", "[accept_proxy]") {
  plexd_daemon d(listener_toml("elsewhere", "echo", "accept_proxy = true\nproxy_from = [\"10.0.0.0/8\", \"::1/128\"]") +
                 listener_toml("plain", "echo", "proxy_from = [\"192.0.2.0/24\"]") + proxied("trusted", "echo"));
  REQUIRE(d.wait_ready());
  for (const std::string name : {"elsewhere", "plain"}) {
    client c;
    REQUIRE(c.connect(d.port(name)));
    c.send(v1("10.1.2.3", 1) + "ping");  // whatever the header says
    bool closed = false;
    CHECK(c.read_until_closed(3s, &closed).empty());
    CHECK(closed);
    CHECK(refused_by(d, name, "denied") == 1);
  }
  CHECK(echoed(d.port("trusted"), v1("10.1.2.3", 1)));
  CHECK(d.wait_log("refused 127.0.0.1:"));
}

TEST_CASE("stop closes connections still waiting for their header", "[accept_proxy]") {
  plexd_daemon d(proxied("echo", "echo"));
  REQUIRE(d.wait_ready());
  client silent;
  REQUIRE(silent.connect(d.port("echo")));
  bool waiting = false;  // accepted, and holding its place while the header is awaited
  for (int i = 0; i < 100 && !waiting; ++i) {
    waiting = counter(d, "echo", "active") == 1;
    if (!waiting) std::this_thread::sleep_for(20ms);
  }
  REQUIRE(waiting);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(d.stop() == 0);
  // Well inside the 5 s header deadline: the stop did not wait for it.
  CHECK(std::chrono::steady_clock::now() - t0 < 4500ms);
  CHECK(silent.wait_closed(2s));
}

TEST_CASE("plexd check warns about accept_proxy without proxy_from", "[accept_proxy]") {
  temp_dir dir;
  const auto file =
      dir.write("plexd.toml", "[control]\nendpoint = \"\"\n" + listener_toml("open", "echo", "accept_proxy = true") +
                                  listener_toml("ok", "echo", "accept_proxy = true\nproxy_from = [\"10.0.0.0/8\"]"));
  auto r = run_plexd({"check", "-c", file});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("warning: listener 'open': accept_proxy is on but proxy_from is empty") != std::string::npos);
  CHECK(r.err.find("listener 'ok'") == std::string::npos);
  const auto bad =
      dir.write("bad.toml", listener_toml("x", "echo", "accept_proxy = \"yes\"\nproxy_from = [\"10.0.0.1/8\"]"));
  r = run_plexd({"check", "-c", bad});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("listener[1].accept_proxy: expected a boolean, got a string") != std::string::npos);
  CHECK(r.err.find("listener[1].proxy_from") != std::string::npos);
}

TEST_CASE("connections waiting for their header hold a place in max_connections", "[accept_proxy]") {
  plexd_daemon d(proxied("echo", "echo", "max_connections = 2"));
  REQUIRE(d.wait_ready());
  client silent1, silent2;
  REQUIRE(silent1.connect(d.port("echo")));
  REQUIRE(silent2.connect(d.port("echo")));
  bool full = false;
  for (int i = 0; i < 100 && !full; ++i) {
    full = counter(d, "echo", "active") == 2;
    if (!full) std::this_thread::sleep_for(20ms);
  }
  REQUIRE(full);
  CHECK_FALSE(echoed(d.port("echo"), v1("192.0.2.1", 1)));  // refused: two silent ones hold the places
  CHECK(refused_by(d, "echo", "max_connections") == 1);
  CHECK(counter(d, "echo", "accepted") == 0);
  silent1.send(v1("192.0.2.2", 2) + "x");  // one of them speaks up and is served
  CHECK(silent1.read_exact(1) == "x");
  silent2.close();
  bool freed = false;
  for (int i = 0; i < 100 && !freed; ++i) {
    freed = counter(d, "echo", "active") == 1;
    if (!freed) std::this_thread::sleep_for(20ms);
  }
  CHECK(freed);
  CHECK(echoed(d.port("echo"), v1("192.0.2.3", 3)));
  CHECK(counter(d, "echo", "accepted") == 2);
}

TEST_CASE("with several event loops each header is read on its connection's own loop", "[accept_proxy]") {
  plexd_daemon d(proxied("echo", "echo", "max_per_source = 1"),
                 "[daemon]\nlog_level = \"debug\"\nshutdown_grace = \"2s\"\nthreads = 3\n");
  REQUIRE(d.wait_ready());
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < 9; ++i) {
    clients.push_back(std::make_unique<client>());
    REQUIRE(clients.back()->connect(d.port("echo")));
    // Header and payload in one write: the payload must not wait for more input.
    clients.back()->send(v1("192.0.2." + std::to_string(i + 1), 1000) + "n" + std::to_string(i));
  }
  for (std::size_t i = 0; i < clients.size(); ++i) CHECK(clients[i]->read_exact(2) == "n" + std::to_string(i));
  CHECK(counter(d, "echo", "accepted") == 9);
  CHECK(counter(d, "echo", "errors") == 0);
}
