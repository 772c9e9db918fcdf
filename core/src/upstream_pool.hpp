// The upstreams of one forward listener: their counters, passive and
// active health, and the balancing choice. Shared by every event-loop
// thread; a reload builds a new pool that takes over the entries of the
// addresses it keeps (counters and health survive a reload).
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "plexd/config/config.hpp"
#include "plexd/core/metrics.hpp"

namespace plexd::core {

class upstream {
 public:
  using clock = std::chrono::steady_clock;
  upstream(std::string listener, config::upstream_address address);

  const config::upstream_address& address() const { return address_; }
  const std::string& text() const { return text_; }
  /// The address itself when the host is an IP literal (no resolving needed).
  const std::optional<asio::ip::tcp::endpoint>& literal() const { return literal_; }

  /// A name's addresses are reused for this long after a resolve: a busy
  /// listener resolves once per upstream in that time, not once per
  /// connection (each resolve is a trip through the system resolver, one at
  /// a time per event loop, and maybe a DNS query).
  static constexpr std::chrono::seconds reuse_addresses_for{5};
  using addresses = std::vector<asio::ip::tcp::endpoint>;
  struct known_addresses {
    std::optional<addresses> found;  // none: resolve before connecting
    bool refresh = false;            // older than reuse_addresses_for: resolve again meanwhile
  };
  /// The addresses to connect to. Older ones are still used while one
  /// caller at a time (refresh) resolves again in the background, so that a
  /// slow resolver delays no client. None after a failed connect.
  known_addresses addresses_for(clock::time_point now);
  /// A resolve's answer, returned as the addresses to try: the one that
  /// answered last stays first.
  addresses resolved(const asio::ip::tcp::resolver::results_type& found, clock::time_point now);
  /// A connect to `address` succeeded: later connects try it first.
  void connected_to(const asio::ip::tcp::endpoint& address);
  /// A background resolve failed: the last addresses serve another period.
  void refresh_failed(clock::time_point now);
  /// A connect to the remembered addresses failed: the next one resolves.
  void forget_addresses();

  enum class availability : std::uint8_t { usable, passive_down, check_down };
  availability available(clock::time_point now) const;
  bool reported_up() const;

  /// Passive health: the result of a client's connect attempt.
  void connect_succeeded();
  void connect_failed(const config::forward_options& o, clock::time_point now);
  /// Active health: the result of one check.
  enum class check_result : std::uint8_t { ok, failed };
  void checked(check_result r, const config::forward_options& o);

  upstream_status status() const;

  std::atomic<std::int64_t> active{0};
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<std::uint64_t> bytes_up{0};
  std::atomic<std::uint64_t> bytes_down{0};

 private:
  void mark_up(const std::string& why);
  void mark_down(const std::string& why);

  std::string listener_;
  config::upstream_address address_;
  std::string text_;
  std::optional<asio::ip::tcp::endpoint> literal_;
  mutable std::mutex mutex_;
  addresses addresses_;
  std::optional<asio::ip::tcp::endpoint> answered_;  // the address that answered last
  clock::time_point resolved_at_{};
  clock::time_point refresh_started_{};  // a background resolve, if later than resolved_at_
  clock::time_point window_start_{};
  clock::time_point down_until_{};
  unsigned fails_ = 0;
  unsigned checks_ok_ = 0;
  unsigned checks_failed_ = 0;
  bool check_down_ = false;
  bool down_ = false;  // as last logged
};

class upstream_pool {
 public:
  /// Takes over the entries of `previous` whose address is listed again.
  upstream_pool(const std::string& listener, const config::forward_options& o, const upstream_pool* previous);

  const config::forward_options& options() const { return options_; }
  const std::vector<std::shared_ptr<upstream>>& members() const { return members_; }
  /// The next upstream to try by the balance rule, skipping those in
  /// `tried` (one flag per member) and marking the pick; null when none is
  /// left. Passively failed upstreams are a last resort, never skipped for good.
  std::shared_ptr<upstream> pick(std::vector<bool>& tried) const;

 private:
  std::ptrdiff_t choose(const std::vector<bool>& tried, upstream::availability wanted) const;

  config::forward_options options_;
  std::vector<std::shared_ptr<upstream>> members_;
  mutable std::atomic<std::size_t> next_{0};
};

/// Active TCP health checks of a pool's members, on the main loop. Every
/// `health_check` period each upstream gets one connect attempt (bounded
/// by connect_timeout and the period); destroying the checker cancels it.
class health_checker : public std::enable_shared_from_this<health_checker> {
 public:
  health_checker(asio::io_context& io, std::shared_ptr<const upstream_pool> pool);
  ~health_checker();
  health_checker(const health_checker&) = delete;
  health_checker& operator=(const health_checker&) = delete;
  health_checker(health_checker&&) = delete;
  health_checker& operator=(health_checker&&) = delete;
  void start();

 private:
  struct probe;
  void round();
  void check(const std::shared_ptr<upstream>& target);

  asio::io_context& io_;
  std::shared_ptr<const upstream_pool> pool_;
  asio::steady_timer timer_;
  std::vector<std::shared_ptr<probe>> probes_;
};

}  // namespace plexd::core
