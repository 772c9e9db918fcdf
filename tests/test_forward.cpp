// The forward handler end to end: the real binary between a test client
// and real upstream servers on 127.0.0.1. Streams, half-close, balancing.
#include <catch2/catch.hpp>

#include <array>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "harness.hpp"
#include "test_forward_upstream.hpp"

using namespace plexd::test;

TEST_CASE("forward carries MiB-sized binary data byte-exact both ways", "[forward]") {
  const auto up_data = binary_pattern(std::size_t{3} << 20, 1);
  const auto down_data = binary_pattern(std::size_t{3} << 20, 2);
  upstream_server sink(upstream_server::mode::record);
  upstream_server source(upstream_server::mode::source, "", down_data);
  plexd_daemon d(forward_toml({sink.address()}) + forward_toml({source.address()}, "", "down"));
  REQUIRE(d.wait_ready());

  client up;
  REQUIRE(up.connect(d.port("fwd")));
  up.send(up_data);  // one write of 3 MiB: the largest single write there is
  up.shutdown_send();
  CHECK(up.read_line(20s) == "bytes=" + std::to_string(up_data.size()));
  CHECK(up.wait_closed());
  CHECK(sink.received(0) == up_data);

  client down;
  REQUIRE(down.connect(d.port("down")));
  bool closed = false;
  const auto got = down.read_until_closed(20s, &closed);
  CHECK(closed);
  CHECK(got.size() == down_data.size());
  CHECK(got == down_data);
}

TEST_CASE("forward echoes through while both directions are busy at once", "[forward]") {
  upstream_server echo(upstream_server::mode::echo);
  plexd_daemon d(forward_toml({echo.address()}, "buffer = 4096"));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("fwd")));
  const auto data = binary_pattern(std::size_t{2} << 20, 3);
  // A small buffer and a sender that never waits for the echo: write what
  // the socket takes, read what arrives, on one non-blocking socket.
  auto& sock = c.socket();
  sock.non_blocking(true);
  std::string got;
  std::size_t sent = 0;
  std::vector<char> buf(65536);
  const auto end = std::chrono::steady_clock::now() + 30s;
  while (got.size() < data.size() && std::chrono::steady_clock::now() < end) {
    asio::error_code ec;
    if (sent < data.size()) sent += sock.write_some(asio::buffer(data.data() + sent, data.size() - sent), ec);
    const auto n = sock.read_some(asio::buffer(buf), ec);
    got.append(buf.data(), n);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) break;
    if (n == 0) std::this_thread::sleep_for(1ms);
  }
  CHECK(sent == data.size());
  CHECK(got.size() == data.size());
  CHECK(got == data);
}

TEST_CASE("forward: a busy pair whose client stops reading gets every byte once it reads again", "[forward]") {
  // Many exchanges first, so that both sockets are past the short-lived
  // stage; then every wait there is: the client's queue fills (plexd stops
  // reading the upstream), the echo upstream blocks on its own writes and
  // stops reading, plexd's writes to it are refused. All of it must resume
  // when the client reads again.
  upstream_server echo(upstream_server::mode::echo);
  plexd_daemon d(forward_toml({echo.address()}, "buffer = 65536"));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("fwd")));
  c.socket().set_option(asio::socket_base::receive_buffer_size(65536));
  for (int i = 0; i < 50; ++i) {
    c.send("line " + std::to_string(i) + "\n");
    REQUIRE(c.read_line() == "line " + std::to_string(i));
  }
  const auto data = binary_pattern(std::size_t{16} << 20, 4);
  std::thread writer([&] { c.send(data); });  // blocks until the reader drains
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const auto got = c.read_exact(data.size(), 30s);
  writer.join();
  CHECK(got.size() == data.size());
  CHECK(got == data);
  CHECK(listener_of(d)["errors"].as_number() == 0);
}

TEST_CASE("forward resolves a host-name upstream when it connects", "[forward]") {
  upstream_server a(upstream_server::mode::echo, "a\n");
  const auto named = "localhost:" + std::to_string(a.port());
  plexd_daemon d(forward_toml({named}));
  REQUIRE(d.wait_ready());
  client c;
  CHECK(reached(d, c) == "a");
  c.send("through a resolved name\n");
  CHECK(c.read_exact(24) == "through a resolved name\n");
  CHECK(upstream_of(d, named)["connects"].as_number() == 1);
}

TEST_CASE("forward round robin spreads connections evenly and in turn", "[forward]") {
  upstream_server a(upstream_server::mode::echo, "a\n"), b(upstream_server::mode::echo, "b\n"),
      c(upstream_server::mode::echo, "c\n");
  plexd_daemon d(forward_toml({a.address(), b.address(), c.address()}));
  REQUIRE(d.wait_ready());
  std::vector<std::string> order;
  std::vector<std::unique_ptr<client>> held;
  for (int i = 0; i < 9; ++i) {
    held.push_back(std::make_unique<client>());
    order.push_back(reached(d, *held.back()));
  }
  std::map<std::string, int> count;
  for (const auto& o : order) ++count[o];
  CHECK(count == std::map<std::string, int>{{"a", 3}, {"b", 3}, {"c", 3}});
  for (std::size_t i = 3; i < order.size(); ++i) CHECK(order[i] == order[i - 3]);  // strictly in turn
}

TEST_CASE("forward least_conn sends a new connection to the least busy upstream", "[forward]") {
  upstream_server a(upstream_server::mode::echo, "a\n"), b(upstream_server::mode::echo, "b\n");
  plexd_daemon d(forward_toml({a.address(), b.address()}, "balance = \"least_conn\""));
  REQUIRE(d.wait_ready());
  std::map<std::string, std::unique_ptr<client>> by;
  for (int i = 0; i < 2; ++i) {
    auto c = std::make_unique<client>();
    const auto name = reached(d, *c);
    by[name] = std::move(c);
  }
  REQUIRE(by.size() == 2);  // one each
  by["b"]->close();
  REQUIRE(upstream_server::wait_for([&] { return upstream_of(d, b.address())["active"].as_number() == 0; }));
  client next;
  CHECK(reached(d, next) == "b");
  client tie1, tie2;
  std::set<std::string> ties{reached(d, tie1), reached(d, tie2)};
  CHECK(ties == std::set<std::string>{"a", "b"});  // 2 each after these
}

TEST_CASE("forward first = failover: dead upstreams are skipped, the first live one takes all", "[forward]") {
  upstream_server b(upstream_server::mode::echo, "b\n");
  const auto a_port = dead_port();
  const auto a_address = "127.0.0.1:" + std::to_string(a_port);
  const auto dead = "127.0.0.1:" + std::to_string(dead_port());
  plexd_daemon d(forward_toml({dead, a_address, b.address()}, "balance = \"first\""));
  REQUIRE(d.wait_ready());
  // Started after the daemon, so the daemon does not inherit its listening socket.
  auto a = std::make_unique<upstream_server>(upstream_server::mode::echo, "a\n", "", a_port);
  for (int i = 0; i < 3; ++i) {
    client c;
    CHECK(reached(d, c) == "a");
  }
  // max_fails = 1: one failure marks it down for fail_timeout, so it was tried once.
  CHECK(upstream_of(d, dead)["connect_failures"].as_number() == 1);
  CHECK(upstream_of(d, dead)["state"].as_string() == "down");
  CHECK(d.wait_log("upstream " + dead + " is down"));
  a.reset();  // the first live upstream goes away: the next one takes over
  client c;
  CHECK(reached(d, c) == "b");
  CHECK(upstream_of(d, a_address)["connect_failures"].as_number() == 1);
  CHECK(upstream_of(d, b.address())["connects"].as_number() == 1);
  CHECK(listener_of(d)["errors"].as_number() == 0);
}

TEST_CASE("forward connect_timeout moves on to the next upstream", "[forward]") {
  upstream_server a(upstream_server::mode::echo, "a\n");
  // A listener whose backlog is full and never accepted: new SYNs go unanswered.
  asio::io_context io;
  asio::ip::tcp::acceptor full(io);
  full.open(asio::ip::tcp::v4());
  full.bind(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  full.listen(0);
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> fillers;
  for (int i = 0; i < 8; ++i) {
    fillers.push_back(std::make_unique<asio::ip::tcp::socket>(io));
    // Started at once, never completed: the io_context is not run.
    fillers.back()->async_connect(full.local_endpoint(), [](const asio::error_code&) {});
  }
  const auto stuck = "127.0.0.1:" + std::to_string(full.local_endpoint().port());
  plexd_daemon d(forward_toml({stuck, a.address()}, "balance = \"first\"\nconnect_timeout = \"300ms\""));
  REQUIRE(d.wait_ready());
  client c;
  CHECK(reached(d, c) == "a");
  CHECK(upstream_of(d, stuck)["connect_failures"].as_number() == 1);
  CHECK(upstream_of(d, a.address())["connects"].as_number() == 1);
}

namespace {
// A line from a socket the test accepted itself, or what came before EOF,
// an error or the deadline.
std::string read_line(asio::ip::tcp::socket& s, std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  s.non_blocking(true);
  std::string got;
  std::array<char, 128> buf{};
  while (got.find('\n') == std::string::npos && std::chrono::steady_clock::now() < until) {
    asio::error_code ec;
    const std::size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      std::this_thread::sleep_for(10ms);
      continue;
    }
    if (ec) break;
    got.append(buf.data(), n);
  }
  s.non_blocking(false);
  return got;
}
}  // namespace

TEST_CASE("forward joins an upstream whose handshake completes late", "[forward]") {
  // The same full backlog: the proxy's SYN is dropped and resent after
  // about a second, so its connect is still pending when connect() returns.
  asio::io_context io;
  asio::ip::tcp::acceptor full(io);
  full.open(asio::ip::tcp::v4());
  full.bind(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  full.listen(0);
  const auto late = "127.0.0.1:" + std::to_string(full.local_endpoint().port());
  plexd_daemon d(forward_toml({late}, "connect_timeout = \"10s\""));
  REQUIRE(d.wait_ready());
  // Made after the daemon started, so that closing them really ends them.
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> fillers;
  for (int i = 0; i < 8; ++i) {
    fillers.push_back(std::make_unique<asio::ip::tcp::socket>(io));
    fillers.back()->async_connect(full.local_endpoint(), [](const asio::error_code&) {});
  }
  client c;
  REQUIRE(c.connect(d.port("fwd")));
  c.send("sent while the upstream was still connecting\n");
  std::this_thread::sleep_for(300ms);
  // Make room: the fillers stop knocking. Whatever was queued is taken in
  // turn; the proxy's connection is the one that carries the client's line
  // (a filler's reads end at once: it has closed).
  fillers.clear();
  full.non_blocking(true);
  const std::string line = "sent while the upstream was still connecting\n";
  std::optional<asio::ip::tcp::socket> up;
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (!up && std::chrono::steady_clock::now() < give_up) {
    asio::error_code ec;
    asio::ip::tcp::socket s = full.accept(ec);
    if (ec) {
      std::this_thread::sleep_for(10ms);
      continue;
    }
    if (read_line(s, 2s) == line) up.emplace(std::move(s));
  }
  REQUIRE(up);
  asio::error_code ec;
  asio::write(*up, asio::buffer(std::string("late but here\n")), ec);
  CHECK(c.read_exact(14) == "late but here\n");
  CHECK(upstream_of(d, late)["connects"].as_number() == 1);
  CHECK(upstream_of(d, late)["connect_failures"].as_number() == 0);
}

TEST_CASE("forward with every upstream down closes the client and counts an error", "[forward]") {
  const auto d1 = "127.0.0.1:" + std::to_string(dead_port());
  const auto d2 = "127.0.0.1:" + std::to_string(dead_port());
  upstream_server bystander_up(upstream_server::mode::echo, "ok\n");
  plexd_daemon d(forward_toml({d1, d2}) + forward_toml({bystander_up.address()}, "", "other"));
  REQUIRE(d.wait_ready());
  for (int i = 0; i < 3; ++i) {
    client c;
    REQUIRE(c.connect(d.port("fwd")));
    bool closed = false;
    CHECK(c.read_until_closed(10s, &closed).empty());
    CHECK(closed);
  }
  const auto l = listener_of(d);
  CHECK(l["errors"].as_number() == 3);
  // Each try visits each upstream at most once; passive health never locks them out for good.
  CHECK(upstream_of(d, d1)["connect_failures"].as_number() + upstream_of(d, d2)["connect_failures"].as_number() == 6);
  CHECK(d.wait_log("no upstream answered"));
  client ok;
  REQUIRE(ok.connect(d.port("other")));
  CHECK(ok.read_line() == "ok");  // the bystander listener is unharmed
}
