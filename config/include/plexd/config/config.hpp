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
  bool operator==(const chat_options&) const = default;
};

struct discard_options {
  static constexpr std::string_view name = "discard";
  bool operator==(const discard_options&) const = default;
};

/// One alternative per handler; the index is the handler kind.
using handler_options = std::variant<echo_options, greet_options, chat_options, discard_options>;

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
  std::string listen;  // "" = off; else "HOST:PORT" (loopback unless allow_remote)
  bool allow_remote = false;
};

struct config {
  std::string source;  // file path, or "<built-in>"
  daemon_config daemon;
  control_config control;
  metrics_config metrics;
  std::vector<listener_config> listeners;
};

}  // namespace plexd::config
