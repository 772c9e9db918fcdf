// The loop's readiness set: one descriptor that reports, by edges, which
// sockets received something and which have room to send again after a
// refused write; a socket plexd accepts is heard by the set alone until an
// Asio wait needs it in Asio's reactor too (join_reactor), and in a
// running daemon no socket is in two epoll sets. Real sockets on
// 127.0.0.1. Builds without a set (the select() build) check only that
// they say so: their sockets are waited on through Asio.
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "harness.hpp"
#include "plexd/platform/readiness.hpp"
#include "plexd/platform/stream_socket.hpp"

using asio::ip::tcp;
using plexd::platform::input_state;
using plexd::platform::output_state;
using plexd::platform::readiness_set;

namespace {

struct pair_on_loopback {
  asio::io_context io;
  tcp::socket near{io};
  tcp::socket far{io};
  pair_on_loopback() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    near.connect(acceptor.local_endpoint());
    acceptor.accept(far);
    near.non_blocking(true);
    far.non_blocking(true);
  }
};

// Everything the set has now, after the kernel had a moment to deliver.
std::vector<readiness_set::report> take_all(readiness_set& set) {
  std::vector<readiness_set::report> all;
  std::array<readiness_set::report, 16> batch{};
  for (int i = 0; i < 20; ++i) {
    const std::size_t n = set.take(batch);
    all.insert(all.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(n));
    if (n == 0 && !all.empty()) break;
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return all;
}

// A connected pair whose near end is in a readiness set, with what the set
// said on adding it already taken. Without a set, watched() is false.
struct watched_pair : pair_on_loopback {
  readiness_set set{io, [] {}};
  int token = 0;
  bool watched() {
    if (!set.available()) {
      // Waited on through Asio instead.
      CHECK_FALSE(set.watch(near.native_handle(), &token));
      return false;
    }
    REQUIRE(set.watch(near.native_handle(), &token));
    (void)take_all(set);  // room, nothing to read
    return true;
  }
};

bool says_room(const std::vector<readiness_set::report>& reports) {
  for (const auto& r : reports) {
    if (r.output == output_state::room) return true;
  }
  return false;
}

// Writes until the socket refuses; the peer reads nothing meanwhile.
template <class Socket>
std::size_t fill(Socket& s) {
  const std::string chunk(65536, 'x');
  std::size_t total = 0;
  for (;;) {
    asio::error_code ec;
    const std::size_t n = s.write_some(asio::buffer(chunk), ec);
    total += n;
    if (ec) return total;
  }
}

// Reads `n` bytes as they come (up to 10 s); how many arrived.
std::size_t drain(tcp::socket& s, std::size_t n) {
  std::vector<char> buf(1 << 20);
  std::size_t got = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got < n && std::chrono::steady_clock::now() < until) {
    asio::error_code ec;
    got += s.read_some(asio::buffer(buf), ec);
    if (ec && ec != asio::error::would_block) break;
  }
  return got;
}

// How many epoll sets in process `proc` ("self" or a pid) watch its
// descriptor `fd` (from /proc).
int sets_watching(int fd, const std::string& proc = "self") {
  int count = 0;
  const std::string wanted = "tfd: " + std::to_string(fd);
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + proc + "/fdinfo")) {
    std::ifstream info(entry.path());
    std::string line;
    while (std::getline(info, line)) {
      // "tfd:" then spaces: the field is padded to a width.
      std::string compact;
      for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == ' ' && i > 0 && line[i - 1] == ' ') continue;
        compact += line[i];
      }
      if (compact.rfind(wanted + " ", 0) == 0) ++count;
    }
  }
  return count;
}

}  // namespace

TEST_CASE("readiness set: room to send is reported once a refused write can go on", "[platform]") {
  watched_pair p;
  if (!p.watched()) return;
  const std::size_t queued = fill(p.near);
  REQUIRE(queued > 0);
  CHECK_FALSE(says_room(take_all(p.set)));  // full: nothing to say yet

  // The peer drains: the refused writer hears of room, for its own token.
  CHECK(drain(p.far, queued) == queued);
  const auto reports = take_all(p.set);
  REQUIRE(says_room(reports));
  CHECK(reports.front().token == &p.token);
}

TEST_CASE("readiness set: input, and end of input, are reported with the socket's token", "[platform]") {
  watched_pair p;
  if (!p.watched()) return;
  p.far.write_some(asio::buffer(std::string("hello")));
  auto reports = take_all(p.set);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].token == &p.token);
  CHECK(reports[0].input == input_state::arrived);
  p.far.shutdown(tcp::socket::shutdown_send);
  reports = take_all(p.set);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].input == input_state::ending);
}

TEST_CASE("readiness set: a socket plexd accepts is heard by the set alone, and by Asio once it joins", "[platform]") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket far(io);
  far.connect(acceptor.local_endpoint());
  far.non_blocking(true);
  plexd::platform::stream_socket near(io);
  tcp::endpoint peer;
  asio::error_code ec;
  plexd::platform::accept_ready(acceptor, near, peer, ec);
  REQUIRE_FALSE(ec);
  readiness_set set{io, [] {}};
  int token = 0;
  if (!set.available()) {
    // Waited on through Asio, which holds every socket already.
    CHECK_FALSE(set.watch(near.native_handle(), &token));
    return;
  }
  const int fd = near.native_handle();
  CHECK(sets_watching(fd) == 0);  // not in Asio's reactor: no call was made to put it there
  REQUIRE(set.watch(fd, &token));
  (void)take_all(set);
  CHECK(sets_watching(fd) == 1);
  std::array<char, 16> buf{};
  far.write_some(asio::buffer(std::string("hello")));
  auto reports = take_all(set);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].input == input_state::arrived);
  CHECK(near.read_some(asio::buffer(buf), ec) == 5);

  // An Asio wait needs the socket in Asio's reactor: it joins, and the wait completes.
  plexd::platform::join_reactor(near);
  CHECK(sets_watching(fd) == 2);
  asio::error_code waited = asio::error::timed_out;
  near.async_wait(tcp::socket::wait_read, [&](const asio::error_code& e) { waited = e; });
  far.write_some(asio::buffer(std::string("again")));
  io.run_for(std::chrono::seconds(5));
  CHECK_FALSE(waited);
  CHECK(near.read_some(asio::buffer(buf), ec) == 5);

  // Out again: the set alone hears it, and an Asio wait fails at once rather than hang.
  plexd::platform::leave_reactor(near);
  CHECK(sets_watching(fd) == 1);
  waited = asio::error::timed_out;
  near.async_wait(tcp::socket::wait_read, [&](const asio::error_code& e) { waited = e; });
  io.restart();
  io.run_for(std::chrono::seconds(5));
  CHECK(waited == asio::error::bad_descriptor);
  (void)take_all(set);
  far.write_some(asio::buffer(std::string("after")));
  reports = take_all(set);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].input == input_state::arrived);
  CHECK(near.read_some(asio::buffer(buf), ec) == 5);
  // And room to send after a refused write.
  const std::size_t queued = fill(near);
  CHECK_FALSE(says_room(take_all(set)));
  CHECK(drain(far, queued) == queued);
  CHECK(says_room(take_all(set)));
}

TEST_CASE("readiness set: in a running daemon no socket is in two epoll sets, a lone connection's neither",
          "[platform]") {
  asio::io_context io;
  if (!readiness_set{io, [] {}}.available()) {
    SUCCEED("this build has no readiness set: every socket is in Asio's reactor alone");
    return;
  }
  using namespace plexd::test;
  plexd_daemon d(listener_toml("echo", "echo"), "[daemon]\nthreads = 1\nshutdown_grace = \"2s\"\n");
  REQUIRE(d.wait_ready());
  const auto port = d.port("echo");
  const std::string proc = std::to_string(d.process().pid());
  struct census {
    int in_a_set = 0;
    int in_two = 0;
  };
  auto count = [&proc] {
    census c;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/" + proc + "/fd")) {
      std::error_code ec;
      const auto target = std::filesystem::read_symlink(entry.path(), ec).string();
      if (ec || target.rfind("socket:", 0) != 0) continue;
      const int n = sets_watching(std::stoi(entry.path().filename().string()), proc);
      if (n >= 1) ++c.in_a_set;
      if (n >= 2) ++c.in_two;
    }
    return c;
  };
  // One connection on a quiet listener, one exchange: the first of a burst
  // is the one an accept through Asio's reactor would have registered.
  client c;
  REQUIRE(c.connect(port));
  c.send("one");
  CHECK(c.read_exact(3) == "one");
  auto first = count();
  CHECK(first.in_a_set >= 2);  // the listening socket (Asio's set) and the connection (the loop's)
  CHECK(first.in_two == 0);
  // And once it carries a stream of exchanges.
  for (const std::string line : {"two", "three", "four", "five"}) {
    c.send(line);
    CHECK(c.read_exact(line.size()) == line);
  }
  CHECK(count().in_two == 0);
}
