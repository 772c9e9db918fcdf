// Private to the config library: the key tables that describe a valid config,
// and the small machinery that applies a TOML value through them.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plexd/config/loader.hpp"

namespace plexd::config::detail {

/// Collects every problem instead of stopping at the first, so one
/// `plexd check` run shows the operator everything to fix.
class reporter {
 public:
  explicit reporter(std::string file) : file_(std::move(file)) {}
  void add(const toml::source_position& at, std::string key, std::string message);
  /// The errors in file order (tables are walked in key order, not text order).
  std::vector<error> take();

 private:
  std::string file_;
  std::vector<error> errors_;
};

/// What a key accepts. `duration` accepts an integer (seconds) or a string;
/// `table` and `table_array` are for the top-level sections.
enum class kind { string, integer, boolean, duration, string_array, table, table_array };

/// One key while it is applied: its value, its dotted path, and where to complain.
struct field {
  const toml::node& node;
  std::string path;
  reporter& errors;

  void fail(std::string message) const { fail_at(node, std::move(message)); }
  void fail_at(const toml::node& at, std::string message) const {
    errors.add(at.source().begin, path, std::move(message));
  }
  // Only called after check_type() accepted the node, so the casts cannot fail.
  const std::string& text() const { return node.as_string()->get(); }
  std::int64_t integer() const { return node.as_integer()->get(); }
  bool boolean() const { return node.as_boolean()->get(); }
};

/// One entry of a key table: the key, what it accepts, and a setter that
/// validates the (type-checked) value and writes it into Target.
template <class Target>
struct key_spec {
  std::string_view name;
  kind type{};
  void (*set)(const field&, Target&);
};

/// One handler of the registry: its option keys and its default options.
struct handler_entry {
  std::string_view name;
  std::span<const key_spec<handler_options>> keys;
  handler_options defaults;
  /// What no single key can check (required keys, keys that depend on
  /// each other), run once the whole listener table is applied.
  void (*check)(const toml::table&, const std::string& path, listener_config&, reporter&) = nullptr;
};

std::span<const key_spec<daemon_config>> daemon_keys();
std::span<const key_spec<control_config>> control_keys();
std::span<const key_spec<metrics_config>> metrics_keys();
std::span<const key_spec<backplane_config>> backplane_keys();
std::span<const key_spec<listener_config>> listener_keys();
std::span<const handler_entry> handlers();
const handler_entry* find_handler(std::string_view name);

// The value setters of schema.cpp, shared with the handler tables kept in
// their own files (handler_keys.cpp, forward_keys.cpp).
void set_duration_key(const field& f, duration& out);
void set_unsigned_key(const field& f, std::size_t& out, std::int64_t lo, std::int64_t hi);
int choose_key(const field& f, const std::vector<std::string_view>& allowed);
/// For the value parsers that return an error message: reports it, if any.
bool accepted(const field& f, const std::string& message);
/// Instance and room names end up in Redis keys and fields: up to 64
/// letters, digits, '-', '_' and '.'.
bool safe_name(const std::string& v);

std::span<const key_spec<handler_options>> forward_keys();
void check_forward(const toml::table& table, const std::string& path, listener_config& out, reporter& errors);

/// Reports "expected an integer, got a string" and returns false on a mismatch.
bool check_type(const field& f, kind expected);

/// "a, b, c", for messages that list the valid choices.
std::string join(const std::vector<std::string_view>& words);

template <class Target>
const key_spec<Target>* find_key(std::span<const key_spec<Target>> keys, std::string_view name) {
  for (const auto& spec : keys) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

template <class Target>
void append_names(std::span<const key_spec<Target>> keys, std::vector<std::string_view>& out) {
  for (const auto& spec : keys) out.push_back(spec.name);
}

}  // namespace plexd::config::detail
