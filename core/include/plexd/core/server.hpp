// The multi-listener loop: event-loop threads, listeners from a config,
// reload by difference, graceful stop. Everything here runs on the main
// loop thread (the first worker) unless it says otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "plexd/config/config.hpp"
#include "plexd/core/metrics.hpp"
#include "plexd/core/room_bus.hpp"
#include "plexd/platform/result.hpp"

namespace plexd::core {

struct listener_status {
  std::string name;
  std::string bind;
  std::string handler;
  std::string state;
  std::int64_t active = 0;
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
  std::map<std::string, std::uint64_t> refused_by;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t errors = 0;
  std::vector<upstream_status> upstreams;  // forward listeners only
};

class listener;
struct loop_context;
struct listener_step;

class server {
 public:
  /// `threads` event loops (at least 1); the first runs on the caller of run().
  explicit server(unsigned threads);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  asio::io_context& main_io();
  unsigned threads() const;
  /// Shared chat rooms for the handlers made from now on (before open()).
  void set_room_bus(std::shared_ptr<room_bus> rooms);

  /// Opens every listener of `cfg`. All or nothing: on any failure every
  /// listener opened so far is closed again and the errors are returned.
  std::vector<std::string> open(const config::config& cfg);
  /// Starts accepting on the opened listeners.
  void start();
  /// Reload with a validated config: new listeners open, removed ones
  /// drain, unchanged ones keep their connections and take the new
  /// limits/options. Returns the parts that failed (the rest applied).
  std::vector<std::string> apply(const config::config& cfg);
  /// Stop accepting, say goodbye, let connections drain until `grace`.
  void stop(std::chrono::milliseconds grace);
  /// Runs the loops until stop() has finished its work.
  void run();

  /// Posts a no-op to every event loop; `all_answered` runs on the main
  /// loop once each has run it (the watchdog's proof that none is hung).
  void probe_workers(std::function<void()> all_answered);

  std::vector<listener_status> status() const;
  std::int64_t active_connections() const;

 private:
  /// One listener's part of a reload; returns the failure, or "".
  std::string apply_step(const listener_step& step, std::chrono::milliseconds old_grace);
  void remove_listener(const std::shared_ptr<listener>& l, std::chrono::milliseconds grace);
  platform::result<std::shared_ptr<listener>> open_listener(const config::listener_config& lc);
  void refresh_idle_checks();
  void reap_drained();
  void remember_order(const config::config& cfg);

  std::unique_ptr<loop_context> ctx_;
  std::map<std::string, std::shared_ptr<listener>> listeners_;
  std::vector<std::string> order_;  // config order, for status
  std::vector<std::shared_ptr<listener>> draining_;
  std::chrono::milliseconds grace_{5000};
  bool stopping_ = false;
};

}  // namespace plexd::core
