// Who may connect to a listener and how fast: allow/deny CIDR lists,
// concurrent connections per source address, and a token bucket.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/ip/address.hpp>

#include "plexd/config/config.hpp"
#include "plexd/core/metrics.hpp"

namespace plexd::core {

class access_policy {
 public:
  explicit access_policy(const config::listener_config& cfg) { update(cfg); }

  /// Reload: new rules for new connections; existing ones are untouched.
  void update(const config::listener_config& cfg);

  /// proxy_from: whether `connecting` (the socket's own peer, never an
  /// address a PROXY header carried) may connect at all.
  bool trusted(const asio::ip::address& connecting);

  /// Decides on a new connection from `addr` (the acceptor thread, or a
  /// worker thread once a PROXY header named the client). On admission the
  /// source `key` (the address as text) is counted until release(key).
  std::optional<refusal> admit(const asio::ip::address& addr, const std::string& key,
                               std::chrono::steady_clock::time_point now);
  /// A connection admitted from `key` has closed (any thread).
  void release(const std::string& key);

 private:
  static bool matches(const config::network& net, const asio::ip::address& addr);

  // One lock for the rules, the bucket and the counts: admit() runs on the
  // acceptor thread and, with accept_proxy, on worker threads.
  std::mutex mutex_;
  std::vector<config::network> proxy_from_;
  std::vector<config::network> allow_;
  std::vector<config::network> deny_;
  std::size_t max_per_source_ = 0;
  double rate_ = 0;
  double burst_ = 0;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point refilled_{};
  std::unordered_map<std::string, std::size_t> per_source_;
};

}  // namespace plexd::core
