// Prometheus metrics: the status counters in the text exposition format
// on GET /metrics, over a deliberately tiny HTTP/1.0 responder.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "plexd/core/backplane.hpp"
#include "plexd/core/server.hpp"

namespace plexd::core {

struct daemon_gauges {
  double uptime_s = 0;
  double config_generation = 0;
  bool last_reload_ok = true;
  backplane_status backplane;  // state "off" when there is none
};

/// The exposition text for `listeners` and the daemon-wide gauges.
std::string metrics_text(const std::vector<listener_status>& listeners, const daemon_gauges& gauges);

class metrics_server {
 public:
  static constexpr std::size_t max_request = 8192;

  metrics_server(asio::io_context& io, std::function<std::string()> render);
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// Binds "HOST:PORT". Returns "" or an error.
  std::string open(const std::string& listen);
  void close();
  std::string bound() const;

 private:
  void do_accept();
  asio::ip::tcp::acceptor acceptor_;
  std::function<std::string()> render_;
};

}  // namespace plexd::core
