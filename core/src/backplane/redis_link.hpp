// One connection to Redis on the daemon's own event loop: asynchronous
// resolve and connect with a time limit, AUTH/SELECT/PING, then pipelined
// commands whose replies come back in order. Any failure (a timeout
// included) closes the link and reports once; the owner reconnects.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "plexd/config/config.hpp"
#include "resp.hpp"

namespace plexd::core {

class redis_link : public std::enable_shared_from_this<redis_link> {
 public:
  using reply_fn = std::function<void(const resp::value&)>;
  using status_fn = std::function<void(const std::string& error)>;

  redis_link(asio::io_context& io, const config::backplane_config& target, std::chrono::milliseconds timeout);
  redis_link(const redis_link&) = delete;
  redis_link& operator=(const redis_link&) = delete;

  /// `ready("")` once the handshake passed; `lost(error)` once on any failure
  /// after that or instead of it (never both for the same failure).
  void start(status_fn ready, status_fn lost);
  /// Queues an encoded command. Its reply must arrive within the link's
  /// timeout plus `extra` (a blocking XREAD asks for its block time).
  void command(std::string encoded, reply_fn on_reply, std::chrono::milliseconds extra = {});
  /// Closes without reporting.
  void close();
  std::size_t pending() const { return pending_.size(); }

 private:
  struct pending_reply {
    reply_fn fn;
    std::chrono::steady_clock::time_point deadline;
  };
  void fail(const std::string& error);
  void on_connected();
  void handshake();
  void write_more();
  void read_more();
  void arm_watchdog();

  config::backplane_config target_;
  std::chrono::milliseconds timeout_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  resp::parser parser_;
  std::deque<pending_reply> pending_;
  std::string out_, writing_;
  bool write_active_ = false;
  bool open_ = false;
  bool closed_ = false;
  bool watchdog_armed_ = false;
  std::chrono::steady_clock::time_point connect_deadline_;
  status_fn ready_, lost_;
  char read_buffer_[16384]{};
};

}  // namespace plexd::core
