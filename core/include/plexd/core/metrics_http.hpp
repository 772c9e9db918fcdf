// Prometheus metrics: the status counters in the text exposition format
// on GET /metrics, over a deliberately tiny HTTP/1.0 responder.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "plexd/core/backplane.hpp"
#include "plexd/core/server.hpp"
#include "plexd/platform/control_fwd.hpp"
#include "plexd/platform/result.hpp"

namespace plexd::core {

struct daemon_gauges {
  double uptime_s = 0;
  double config_generation = 0;
  bool last_reload_ok = true;
  backplane_status backplane;  // state "off" when there is none
};

/// The exposition text for `listeners` and the daemon-wide gauges.
std::string metrics_text(const std::vector<listener_status>& listeners, const daemon_gauges& gauges);

namespace detail {
class metrics_session;
}

class metrics_server {
 public:
  static constexpr std::size_t max_request = 8192;
  /// Connections served at once; more are closed as they come.
  static constexpr std::size_t max_connections = 16;
  /// From accept to the last byte of the answer.
  static constexpr std::chrono::seconds request_timeout{5};

  metrics_server(asio::io_context& io, std::function<std::string()> render);
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// Binds the address and starts serving.
  platform::result<void> open(const config::bind_address& listen);
  void close();
  std::string bound() const;

 private:
  void admit(std::shared_ptr<platform::control_stream> stream);
  asio::io_context& io_;
  std::function<std::string()> render_;
  std::unique_ptr<platform::control_acceptor> acceptor_;
  std::vector<std::weak_ptr<detail::metrics_session>> sessions_;
};

}  // namespace plexd::core
