// A real upstream for the forward tests: an Asio server on a loopback
// address (127.0.0.1 unless told) in its own thread, in one of a few behaviours, recording what it received.
#pragma once

#include "harness.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace plexd::test {

class upstream_server {
 public:
  enum class mode {
    echo,    // send `greeting`, then echo until EOF, then close
    record,  // record until EOF, then reply "bytes=N\n" and close
    source,  // send `payload`, half-close, record until EOF, then close
    silent,  // accept and never read
    flood    // send without end, never read
  };

  /// `port` 0 = any free port. Throws if `host` cannot be bound.
  explicit upstream_server(mode m, std::string greeting = "", std::string payload = "", std::uint16_t port = 0,
                           const std::string& host = "127.0.0.1")
      : mode_(m), greeting_(std::move(greeting)), payload_(std::move(payload)), acceptor_(io_) {
    asio::ip::tcp::endpoint ep(asio::ip::make_address(host), port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    host_ = ep.address();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~upstream_server() {
    io_.stop();
    thread_.join();
  }
  upstream_server(const upstream_server&) = delete;
  upstream_server& operator=(const upstream_server&) = delete;

  std::uint16_t port() const { return port_; }
  /// host:port as a config names it ([::1]:port for IPv6).
  std::string address() const {
    return (host_.is_v6() ? "[" + host_.to_string() + "]" : host_.to_string()) + ":" + std::to_string(port_);
  }
  int accepted() const { return accepted_.load(); }
  /// Bytes received on connection `i` (in accept order), so far.
  std::string received(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return i < conns_.size() ? conns_[i]->data : std::string();
  }
  /// Whether connection `i` has seen the client's EOF.
  bool saw_eof(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return i < conns_.size() && conns_[i]->eof;
  }
  /// Whether connection `i` ended with a reset rather than a FIN.
  bool saw_reset(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return i < conns_.size() && conns_[i]->reset;
  }
  /// Waits until `pred` holds (polling), at most `timeout`.
  template <class Pred>
  static bool wait_for(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  /// Stops accepting and closes every connection (the upstream "dies").
  void kill() {
    std::promise<void> done;
    asio::post(io_, [&] {
      asio::error_code ignored;
      acceptor_.close(ignored);
      std::lock_guard lock(mutex_);
      for (auto& c : conns_) c->socket.close(ignored);
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  struct conn {
    explicit conn(asio::ip::tcp::socket s) : socket(std::move(s)) {}
    asio::ip::tcp::socket socket;
    std::string data;
    bool eof = false;
    bool reset = false;
    std::array<char, 65536> buf{};
    std::string out;
  };

  void accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket s) {
      if (ec) return;
      auto c = std::make_shared<conn>(std::move(s));
      {
        std::lock_guard lock(mutex_);
        conns_.push_back(c);
      }
      ++accepted_;
      start(c);
      accept();
    });
  }

  void start(const std::shared_ptr<conn>& c) {
    switch (mode_) {
      case mode::echo:
        if (!greeting_.empty()) asio::write(c->socket, asio::buffer(greeting_));
        return read(c);
      case mode::record:
        return read(c);
      case mode::source:
        asio::async_write(c->socket, asio::buffer(payload_), [this, c](const asio::error_code& ec, std::size_t) {
          if (ec) return;
          c->socket.shutdown(asio::socket_base::shutdown_send);
          read(c);
        });
        return;
      case mode::silent:
        return;
      case mode::flood:
        return flood(c);
    }
  }

  void flood(const std::shared_ptr<conn>& c) {
    c->out.assign(65536, 'f');
    asio::async_write(c->socket, asio::buffer(c->out), [this, c](const asio::error_code& ec, std::size_t) {
      if (!ec) flood(c);
    });
  }

  void read(const std::shared_ptr<conn>& c) {
    c->socket.async_read_some(asio::buffer(c->buf), [this, c](const asio::error_code& ec, std::size_t n) {
      {
        std::lock_guard lock(mutex_);
        c->data.append(c->buf.data(), n);
        if (ec) c->eof = true;
        if (ec == asio::error::connection_reset) c->reset = true;
      }
      if (ec) return on_eof(c);
      if (mode_ == mode::echo) {
        asio::async_write(c->socket, asio::buffer(c->buf.data(), n),
                          [this, c](const asio::error_code& wec, std::size_t) {
                            if (!wec) read(c);
                          });
        return;
      }
      read(c);
    });
  }

  void on_eof(const std::shared_ptr<conn>& c) {
    asio::error_code ignored;
    if (mode_ == mode::record) {
      std::string reply;
      {
        std::lock_guard lock(mutex_);
        reply = "bytes=" + std::to_string(c->data.size()) + "\n";
      }
      asio::write(c->socket, asio::buffer(reply), ignored);
    }
    // The FIN is sent by shutdown, not left to close: under Wine, a socket
    // this test process closed right after its last write never reached
    // plexd.exe as a FIN (a Linux upstream's close does).
    c->socket.shutdown(asio::socket_base::shutdown_both, ignored);
    c->socket.close(ignored);
  }

  mode mode_;
  std::string greeting_;
  std::string payload_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  asio::ip::address host_;
  std::atomic<int> accepted_{0};
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<conn>> conns_;
  std::thread thread_;
};

/// A 127.0.0.1 port where nothing listens (bound once, then released).
inline std::uint16_t dead_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

/// Binary test data: every byte value, NULs included, in a long cycle.
inline std::string binary_pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761U + 1;
  for (auto& ch : s) {
    x = x * 1664525U + 1013904223U;
    ch = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace plexd::test

namespace plexd::test {

/// A forward listener's [[listener]] table with these upstreams.
inline std::string forward_toml(const std::vector<std::string>& upstreams, const std::string& extra = "",
                                const std::string& name = "fwd") {
  std::string list;
  for (const auto& u : upstreams) list += (list.empty() ? "\"" : ", \"") + u + "\"";
  return listener_toml(name, "forward", "upstreams = [" + list + "]\n" + extra);
}

/// One listener's object from `plexd status --json` (null when absent).
inline plexd::core::json::value listener_of(plexd_daemon& d, const std::string& name = "fwd") {
  const auto status = status_json(d);  // the range below must not outlive it
  for (const auto& l : status["listeners"].as_array()) {
    if (l["name"].as_string() == name) return l;
  }
  return {};
}

// One upstream's entry in the listener's status, found by its address.
inline plexd::core::json::value upstream_of(plexd_daemon& d, const std::string& address,
                                            const std::string& name = "fwd") {
  const auto listener = listener_of(d, name);
  for (const auto& u : listener["upstreams"].as_array()) {
    if (u["address"].as_string() == address) return u;
  }
  return {};
}

// The greeting line of whichever upstream this connection reached.
inline std::string reached(plexd_daemon& d, client& c) {
  REQUIRE(c.connect(d.port("fwd")));
  return c.read_line().value_or("(nothing)");
}

}  // namespace plexd::test
