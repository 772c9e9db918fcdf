// Plain structs for plexd's configuration. Everything here is validated by
// parse_config(); code that receives a config never re-checks it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace plexd::config {

using duration = std::chrono::milliseconds;

enum class framing { raw, line };

// Each handler's options carry the handler's name: the variant below is the
// one list of handlers, and config/ and core/ each add one row per
// alternative (a missing row fails to compile).
struct echo_options {
  static constexpr std::string_view name = "echo";
  framing framing_mode = framing::raw;
  std::string prefix;
  std::string suffix;
  bool operator==(const echo_options&) const = default;
};

struct greet_options {
  static constexpr std::string_view name = "greet";
  std::string message = "Hello";
  bool await_reply = false;
  bool operator==(const greet_options&) const = default;
};

struct chat_options {
  static constexpr std::string_view name = "chat";
  std::string format = "{peer}: {line}";
  bool announce = true;
  std::string welcome;
  std::string goodbye = "Shutdown Server\n";
  // Per-client pacing of lines: reading from a client pauses once it has
  // used its burst, and resumes as the rate allows; no line is dropped.
  double line_rate = 0;   // lines per second; 0 = unlimited
  double line_burst = 0;  // lines; 0 = one second's worth (at least 1)
  std::string room;       // "" = local to the listener; else shared through [backplane]
  bool operator==(const chat_options&) const = default;
};

struct discard_options {
  static constexpr std::string_view name = "discard";
  bool operator==(const discard_options&) const = default;
};

enum class balance { round_robin, least_conn, first };
enum class proxy_header { none, v1, v2 };

/// One upstream of a forward listener, as written ("HOST:PORT", "[V6]:PORT").
struct upstream_address {
  std::string host;  // an IP literal or a host name resolved at connect time
  std::uint16_t port = 0;
  bool operator==(const upstream_address&) const = default;
  std::string to_string() const;
};

struct forward_options {
  static constexpr std::string_view name = "forward";
  std::vector<upstream_address> upstreams;
  balance balance_mode = balance::round_robin;
  duration connect_timeout{5000};
  unsigned max_fails = 1;
  duration fail_timeout{10000};
  duration health_check{0};  // 0 = no active checks
  unsigned health_rise = 2;
  unsigned health_fall = 2;
  proxy_header proxy_protocol = proxy_header::none;
  bool half_close = true;  // false: the first FIN from either side ends the pair
  duration fin_timeout{30000};
  std::size_t buffer = 65536;
  bool operator==(const forward_options&) const = default;
};

/// One alternative per handler; the index is the handler kind.
using handler_options = std::variant<echo_options, greet_options, chat_options, discard_options, forward_options>;

/// The registry name of the handler whose options `o` holds.
inline std::string_view handler_name(const handler_options& o) {
  return std::visit([](const auto& alt) { return std::decay_t<decltype(alt)>::name; }, o);
}

/// Where a listener binds. host "*" means every IPv4 and IPv6 address.
struct bind_address {
  std::string host;  // "127.0.0.1", "::1", "*"
  std::uint16_t port = 0;
  bool operator==(const bind_address&) const = default;
  /// "HOST:PORT", "[V6]:PORT" or "*:PORT", as written in a config.
  std::string to_string() const;
};

/// A CIDR network for access rules.
struct network {
  std::string text;                // as written, for messages
  std::vector<std::uint8_t> addr;  // 4 or 16 bytes
  unsigned prefix = 0;
  bool operator==(const network&) const = default;
};

struct rate_limit {
  double per_second = 0;  // 0 = unlimited
  double burst = 0;
  bool operator==(const rate_limit&) const = default;
};

struct listener_config {
  std::string name;
  bind_address bind;
  std::string handler;  // the registry name: "echo", "greet", ...
  std::size_t max_connections = 1024;
  duration idle_timeout{0};  // 0 = never
  std::size_t max_line = 65536;
  std::size_t max_output = 1048576;
  // Access control: deny wins, empty allow = everyone.
  std::vector<network> allow;
  std::vector<network> deny;
  std::size_t max_per_source = 0;  // 0 = unlimited
  rate_limit rate;
  // PROXY protocol: every connection starts with a v1/v2 header whose
  // address is the peer; proxy_from (when not empty) lists who may connect.
  bool accept_proxy = false;
  std::vector<network> proxy_from;
  handler_options options;
  int line = 0;  // where the [[listener]] table starts, for messages
  int column = 0;
};

struct daemon_config {
  std::string log_level = "info";
  std::string log_file;
  std::size_t log_file_max_bytes = std::size_t{10} * 1024 * 1024;
  std::size_t log_file_count = 5;
  unsigned threads = 1;  // 0 = one per core (resolved at start)
  duration shutdown_grace{5000};
  std::string user;  // POSIX: drop to this user after binding when started as root
};

struct control_config {
  std::string endpoint;  // "" = off
  /// False when the file has no endpoint key: the daemon then uses the
  /// platform's default location (an explicit "" turns the endpoint off).
  bool endpoint_set = false;
};

struct metrics_config {
  std::optional<bind_address> listen;  // none = off (loopback only unless allow_remote)
  bool allow_remote = false;
};

/// [backplane]: chat rooms shared with other instances through Redis.
struct backplane_config {
  std::string host;  // "" = off
  std::uint16_t port = 6379;
  unsigned db = 0;
  std::string password;  // never printed: describe() leaves it out
  std::string instance;  // "" = HOST-PID, chosen at start
  bool enabled() const { return !host.empty(); }
  /// "HOST:PORT/DB" (IPv6 hosts in brackets), without the password.
  std::string describe() const;
  bool operator==(const backplane_config&) const = default;
};

struct config {
  std::string source;  // file path, or "<built-in>"
  daemon_config daemon;
  control_config control;
  metrics_config metrics;
  backplane_config backplane;
  std::vector<listener_config> listeners;
};

}  // namespace plexd::config
