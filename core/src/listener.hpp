// One [[listener]]: its acceptor, limits, access rules, handler and
// counters. Accepting happens on the main loop thread; each accepted
// socket is created on the next worker's io_context (a hand-off that works
// the same on every system, so no SO_REUSEPORT is needed).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "access.hpp"
#include "log_limiter.hpp"
#include "loop_context.hpp"
#include "plexd/config/config.hpp"
#include "plexd/core/handler.hpp"
#include "plexd/core/metrics.hpp"
#include "plexd/platform/accept_backoff.hpp"
#include "plexd/platform/result.hpp"
#include "plexd/platform/stream_socket.hpp"

namespace plexd::core {

class proxy_acceptor;

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(loop_context& ctx, config::listener_config cfg, std::shared_ptr<handler> h);
  ~listener() = default;
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  listener(listener&&) = delete;
  listener& operator=(listener&&) = delete;

  /// Binds (or takes the socket systemd handed over); the error names the
  /// listener and its address.
  platform::result<void> open();
  void start();
  /// What a listener that stops accepting becomes: `draining` (removed by a
  /// reload, its sessions finishing) or `stopped` (the daemon is stopping).
  enum class lifecycle : std::uint8_t { created, listening, draining, stopped };
  /// Stops accepting for good (stop, or removed by a reload).
  void stop_accepting(lifecycle next);
  /// Reload with the same bind and handler: new limits, rules, options.
  void apply(const config::listener_config& cfg);

  const std::string& name() const { return name_; }
  const config::listener_config& config() const { return cfg_; }  // main thread only
  std::string bound_address() const { return bound_; }
  std::string state() const;
  handler& get_handler() { return *handler_; }
  const handler& get_handler() const { return *handler_; }
  listener_stats& stats() { return stats_; }
  const listener_stats& stats() const { return stats_; }

  // Read by sessions on any thread.
  std::size_t max_line() const { return max_line_.load(std::memory_order_relaxed); }
  std::size_t max_output() const { return max_output_.load(std::memory_order_relaxed); }
  std::uint32_t idle_ticks() const { return idle_ticks_.load(std::memory_order_relaxed); }
  bool has_idle_timeout() const { return idle_ticks() != 0; }

  /// Rate limit for the disconnect records of this listener's sessions.
  log_limiter& disconnect_log() { return disconnect_log_; }

  /// A session admitted from `source_key` has ended.
  void session_closed(const std::string& source_key);

  using socket_type = platform::stream_socket;
  /// accept_proxy: a connection's header has arrived (on its worker's
  /// thread). The carried `source` (when there is one) is the peer that the
  /// access rules judge and the session shows.
  void start_proxied(socket_type socket, const asio::ip::tcp::endpoint& connecting,
                     const std::optional<asio::ip::tcp::endpoint>& source,
                     const std::optional<asio::ip::tcp::endpoint>& destination);
  /// accept_proxy: a connection closed before its session started.
  void pending_closed();

 private:
  using native_socket = asio::ip::tcp::acceptor::native_handle_type;
  /// open()'s two ways to a listening socket.
  platform::result<void> adopt_inherited(native_socket fd);
  platform::result<void> bind_own();
  void apply_limits(const config::listener_config& cfg);
  void warn_untrusted_proxy(const config::listener_config& cfg) const;
  /// Whether accepting goes on now or waits for the backoff to resume it.
  enum class accept_turn : std::uint8_t { go_on, paused };
  /// Connections taken per turn before the listener yields to the loop.
  static constexpr int backlog_per_turn = 32;

  void do_accept();
  /// The listening socket is readable (accept_mode::readiness).
  void on_acceptable(const asio::error_code& ec);
  /// Asio accepted one connection (accept_mode::completion).
  void on_accept(const asio::error_code& ec, socket_type socket, worker& target);
  /// Takes up to `most` waiting connections with accept_ready().
  accept_turn take_backlog(int most);
  /// After a failed accept. True when the process or system is out of
  /// descriptors or buffers: accepting pauses and the backoff resumes it.
  /// Any other error concerns that one connection alone.
  bool pause_after(const asio::error_code& ec);
  void admit(socket_type socket, const asio::ip::tcp::endpoint& remote, worker& target);
  void log_refusal(refusal why, const std::string& peer);

  loop_context& ctx_;
  config::listener_config cfg_;
  std::string name_;
  std::shared_ptr<handler> handler_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::endpoint accepted_peer_;  // filled by the one async_accept in flight
  platform::accept_backoff backoff_;
  std::string bound_;
  std::atomic<std::size_t> max_connections_{0};
  std::atomic<std::size_t> max_line_{0};
  std::atomic<std::size_t> max_output_{0};
  std::atomic<std::uint32_t> idle_ticks_{0};
  std::atomic<lifecycle> state_{lifecycle::created};  // read by workers finishing a PROXY header
  access_policy access_;
  listener_stats stats_;
  std::chrono::steady_clock::time_point refusal_log_at_{};
  std::uint64_t refusals_unlogged_ = 0;
  std::mutex refusal_log_mutex_;           // refusals are decided on worker threads too (accept_proxy)
  std::shared_ptr<proxy_acceptor> proxy_;  // made when accept_proxy is first on
  log_limiter disconnect_log_;
};

}  // namespace plexd::core
