// How the loop's TCP connections are accepted and opened: ready for the
// loop (non-blocking, TCP_NODELAY) on every system, whichever calls each
// system needs for it. Real sockets on 127.0.0.1.
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <string>
#include <thread>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include "plexd/platform/sockets.hpp"
#include "plexd/platform/stream_socket.hpp"

using asio::ip::tcp;
using plexd::platform::stream_socket;

namespace {

struct listening {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  listening() {
    acceptor.non_blocking(true);
    plexd::platform::prepare_accepting(acceptor);
  }
  tcp::endpoint where() const { return acceptor.local_endpoint(); }
};

bool nodelay(stream_socket& s) {
  tcp::no_delay opt;
  s.get_option(opt);
  return opt.value();
}

// accept_ready until the connection just made arrives (up to 5 s).
void accept_waiting(listening& l, stream_socket& into, tcp::endpoint& peer, asio::error_code& ec) {
  for (int i = 0; i < 500; ++i) {
    plexd::platform::accept_ready(l.acceptor, into, peer, ec);
    if (ec != asio::error::would_block) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Reads what `n` bytes need, polling a non-blocking socket for up to 5 s.
std::string read_n(stream_socket& s, std::size_t n) {
  std::string got;
  std::array<char, 4096> buf{};
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.size() < n && std::chrono::steady_clock::now() < until) {
    asio::error_code ec;
    const std::size_t k = s.read_some(asio::buffer(buf), ec);
    if (ec && ec != asio::error::would_block) break;
    got.append(buf.data(), k);
  }
  return got;
}

}  // namespace

TEST_CASE("stream sockets: accept_ready takes a waiting connection ready for the loop", "[platform]") {
  listening l;
  stream_socket accepted(l.io);
  tcp::endpoint peer;
  asio::error_code ec;
  plexd::platform::accept_ready(l.acceptor, accepted, peer, ec);
  CHECK(ec == asio::error::would_block);  // nobody waits yet: no blocking

  tcp::socket client(l.io);
  client.connect(l.where());
  accept_waiting(l, accepted, peer, ec);
  REQUIRE_FALSE(ec);
  CHECK(peer == client.local_endpoint());
  CHECK(accepted.non_blocking());
  CHECK(nodelay(accepted));
  // Non-blocking for the system too, not only for Asio: a read with nothing
  // to read returns at once.
  std::array<char, 16> buf{};
  accepted.read_some(asio::buffer(buf), ec);
  CHECK(ec == asio::error::would_block);
  asio::write(client, asio::buffer("ping", 4));
  CHECK(read_n(accepted, 4) == "ping");
}

TEST_CASE("stream sockets: a connection from async_accept is readied the same way", "[platform]") {
  listening l;
  tcp::socket client(l.io);
  client.connect(l.where());
  stream_socket accepted(l.io);
  bool done = false;
  l.acceptor.async_accept(accepted, [&](const asio::error_code& e) { done = !e; });
  l.io.run_for(std::chrono::seconds(5));
  REQUIRE(done);
  asio::error_code ec;
  plexd::platform::prepare_accepted(accepted, ec);
  REQUIRE_FALSE(ec);
  CHECK(accepted.non_blocking());
  CHECK(nodelay(accepted));
  std::array<char, 16> buf{};
  accepted.read_some(asio::buffer(buf), ec);
  CHECK(ec == asio::error::would_block);
}

TEST_CASE("stream sockets: open_stream connects without blocking and reuses closed descriptors", "[platform]") {
  listening l;
  // Many rounds: each closed socket's descriptor comes back for the next one,
  // which only works if closing left nothing of the old socket registered
  // with the loop.
  for (int round = 0; round < 50; ++round) {
    stream_socket out(l.io);
    asio::error_code ec;
    plexd::platform::open_stream(out, tcp::v4(), ec);
    REQUIRE_FALSE(ec);
    CHECK(out.non_blocking());
    const auto progress = plexd::platform::start_connect(out.native_handle(), l.where(), ec);
    REQUIRE(progress != plexd::platform::connect_progress::failed);
    if (progress == plexd::platform::connect_progress::not_here) {
      out.connect(l.where(), ec);  // Windows: Asio connects
      REQUIRE_FALSE(ec);
    }
    stream_socket in(l.io);
    tcp::endpoint peer;
    accept_waiting(l, in, peer, ec);
    REQUIRE_FALSE(ec);
    // Through the loop: an async read on the accepted side completes, once
    // the socket is in the loop's reactor (where the loop has a readiness
    // set of its own, an accepted socket starts outside it).
    plexd::platform::join_reactor(in);
    std::array<char, 8> buf{};
    std::size_t got = 0;
    in.async_read_some(asio::buffer(buf), [&](const asio::error_code& e, std::size_t n) { got = e ? 0 : n; });
    // A connect still in progress takes the write once it completes.
    for (int i = 0; i < 500; ++i) {
      asio::write(out, asio::buffer("abc", 3), ec);
      if (ec != asio::error::would_block) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE_FALSE(ec);
    l.io.restart();
    l.io.run_for(std::chrono::seconds(5));
    REQUIRE(got == 3);
    in.close();
    out.close();
  }
}
