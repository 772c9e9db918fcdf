// Reading and validating a TOML config.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plexd/config/config.hpp"

namespace plexd::config {

/// One problem found in a config, printed as "FILE:LINE:COL: KEY: MESSAGE".
struct error {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key;  // dotted path, e.g. "listener[2].max_line"; may be empty
  std::string message;
  std::string to_string() const;
};

/// The outcome of a load: a config when errors is empty.
struct load_result {
  config cfg;
  std::vector<error> errors;
  bool ok() const { return errors.empty(); }
};

/// Parses TOML text; `file` is only used in messages. Never throws.
load_result parse_config(std::string_view text, const std::string& file);

/// Reads and parses a file. Never throws; a missing file is an error.
load_result load_config_file(const std::string& path);

/// Only `[control] endpoint` of a file, read leniently: nothing when the
/// file is unreadable, not TOML, or has no such key. For the CLI verbs,
/// which must reach the daemon even while the file has errors elsewhere.
std::optional<std::string> read_control_endpoint(const std::string& path);

/// The built-in default config (the classic demo ports on 127.0.0.1).
/// `control_endpoint` is the platform's per-user default.
config builtin_config(const std::string& control_endpoint);

/// The TOML text of the built-in default, as shipped in the example config.
std::string_view builtin_config_text();

/// The longest duration a config accepts (30 days): beyond it timers and
/// tick counters could wrap.
inline constexpr duration max_duration = std::chrono::hours(24 * 30);

/// Parses "250ms", "5s", "2m", "1h" or a bare number of seconds. False for
/// any other text and for a value too large to represent; max_duration is
/// the loader's business.
bool parse_duration(std::string_view text, duration& out);

/// Parses "HOST:PORT", "[V6]:PORT", "*:PORT". Returns an error message or "".
std::string parse_bind(std::string_view text, bind_address& out);

/// Parses "10.0.0.0/8", "::1/128", "1.2.3.4". Returns an error message or "".
std::string parse_network(std::string_view text, network& out);

/// Parses "100/s", "10/m". Returns an error message or "".
std::string parse_rate(std::string_view text, double& per_second);

/// The closest candidate within edit distance 2, or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace plexd::config
