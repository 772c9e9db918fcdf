// Walks a parsed TOML document through the key tables of schema.cpp and
// collects every error, then checks what no single key can: required keys,
// keys that depend on each other, and listeners that clash.
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <tuple>

#include "address.hpp"
#include "schema.hpp"

namespace plexd::config {
namespace detail {

void reporter::add(const toml::source_position& at, std::string key, std::string message) {
  errors_.push_back(
      {file_, static_cast<int>(at.line), static_cast<int>(at.column), std::move(key), std::move(message)});
}

std::vector<error> reporter::take() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const error& a, const error& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return std::move(errors_);
}

}  // namespace detail

namespace {
using namespace detail;

// "unknown key; did you mean 'x'?", or the valid keys when none is close.
std::string unknown_key_message(std::string_view word, const std::vector<std::string_view>& valid) {
  auto suggestion = did_you_mean(word, valid);
  if (!suggestion.empty()) return "unknown key; did you mean '" + suggestion + "'?";
  return "unknown key (valid keys: " + join(valid) + ")";
}

template <class Target>
void apply(const key_spec<Target>& spec, const field& f, Target& out) {
  if (check_type(f, spec.type)) spec.set(f, out);
}

// A plain section ([daemon], [control], [metrics]): every key through its table.
template <class Target>
void apply_section(const field& section, std::span<const key_spec<Target>> keys, Target& out) {
  std::vector<std::string_view> valid;
  append_names(keys, valid);
  for (auto&& [key, value] : *section.node.as_table()) {
    field f{value, section.path + "." + std::string(key.str()), section.errors};
    if (const auto* spec = find_key(keys, key.str()))
      apply(*spec, f, out);
    else
      f.errors.add(key.source().begin, f.path, unknown_key_message(key.str(), valid));
  }
}

void load_metrics(const field& section, config& cfg) {
  apply_section(section, metrics_keys(), cfg.metrics);
  // Checked after the whole table: allow_remote may come before or after listen.
  const auto* listen = section.node.as_table()->get("listen");
  if (!cfg.metrics.listen || cfg.metrics.allow_remote) return;
  if (!is_loopback_host(cfg.metrics.listen->host))
    section.errors.add(listen->source().begin, section.path + ".listen",
                       "'" + cfg.metrics.listen->to_string() +
                           "' is not a loopback address; set allow_remote = true to expose metrics");
}

// Where the keys compared across listeners were written, for the messages.
struct listener_marks {
  const toml::node* name = nullptr;
  const toml::node* bind = nullptr;
};

listener_marks load_listener(const toml::table& table, const std::string& path, reporter& errors,
                             listener_config& out) {
  out.line = static_cast<int>(table.source().begin.line);
  out.column = static_cast<int>(table.source().begin.column);
  const auto common = listener_keys();
  auto apply_common = [&](std::string_view key, const toml::node& value) {
    apply(*find_key(common, key), field{value, path + "." + std::string(key), errors}, out);
  };
  // The handler decides which option keys are valid, so it is applied first.
  if (const auto* handler_node = table.get("handler")) apply_common("handler", *handler_node);
  const auto* handler = find_handler(out.handler);  // null when missing or unknown

  for (auto&& [key, value] : table) {
    const std::string name(key.str());
    std::string key_path = path;
    key_path.append(".").append(name);
    if (name == "handler") continue;
    if (find_key(common, name) != nullptr) {
      apply_common(name, value);
      continue;
    }
    if (const auto* spec = handler ? find_key(handler->keys, name) : nullptr) {
      apply(*spec, field{value, key_path, errors}, out.options);
      continue;
    }
    std::vector<std::string_view> owners;
    for (const auto& entry : handlers()) {
      if (find_key(entry.keys, name) != nullptr) owners.push_back(entry.name);
    }
    if (!owners.empty()) {
      // Without a valid handler the option cannot be judged; the handler error says enough.
      if (handler)
        errors.add(key.source().begin, key_path,
                   "'" + name + "' is not an option of handler '" + std::string(handler->name) + "' (it belongs to " +
                       join(owners) + ")");
      continue;
    }
    std::vector<std::string_view> valid;
    append_names(common, valid);
    for (const auto& entry : handlers()) {
      if (handler == nullptr || handler == &entry) append_names(entry.keys, valid);
    }
    errors.add(key.source().begin, key_path, unknown_key_message(name, valid));
  }

  for (std::string_view required : {"name", "bind", "handler"}) {
    if (!table.contains(required))
      errors.add(table.source().begin, path + "." + std::string(required),
                 "missing required key '" + std::string(required) + "'");
  }
  if (handler != nullptr && handler->check != nullptr) handler->check(table, path, out, errors);
  if (const auto* burst = table.get("burst"); burst != nullptr && !table.contains("rate"))
    errors.add(burst->source().begin, path + ".burst", "burst is only valid together with rate");
  else if (out.rate.per_second > 0 && out.rate.burst == 0)
    out.rate.burst = std::max(1.0, out.rate.per_second);  // one second's worth, at least one
  return {table.get("name"), table.get("bind")};
}

// True when two binds cannot both succeed: same port (not 0) and the same
// host, or one of them is a wildcard.
bool binds_conflict(const bind_address& a, const bind_address& b) {
  if (a.port == 0 || a.port != b.port) return false;
  auto wildcard = [](const std::string& h) { return h == "*" || h == "0.0.0.0" || h == "::"; };
  if (wildcard(a.host) || wildcard(b.host)) return true;
  // Compare IPv6 by value so "::1" and "0:0::1" are seen as the same address.
  ipv6_bytes x{}, y{};
  if (parse_ipv6(a.host, x) && parse_ipv6(b.host, y)) return x == y;
  return a.host == b.host;
}

// What no single listener can see: names and addresses used twice.
void check_listeners(const std::vector<listener_config>& listeners, const std::vector<listener_marks>& marks,
                     reporter& errors) {
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    const auto& later = listeners[i];
    const auto path = "listener[" + std::to_string(i + 1) + "]";
    auto first_name = std::find_if(listeners.begin(), listeners.begin() + static_cast<std::ptrdiff_t>(i),
                                   [&](const listener_config& l) { return !l.name.empty() && l.name == later.name; });
    if (first_name != listeners.begin() + static_cast<std::ptrdiff_t>(i))
      errors.add(marks[i].name->source().begin, path + ".name",
                 "duplicate listener name '" + later.name + "' (first used by the listener on line " +
                     std::to_string(first_name->line) + ")");
    if (later.bind.host.empty()) continue;  // no valid bind to compare
    for (std::size_t j = 0; j < i; ++j) {
      if (listeners[j].bind.host.empty() || !binds_conflict(listeners[j].bind, later.bind)) continue;
      errors.add(marks[i].bind->source().begin, path + ".bind",
                 "'" + later.bind.to_string() + "' clashes with '" + listeners[j].bind.to_string() + "' of listener '" +
                     listeners[j].name + "' on line " + std::to_string(listeners[j].line));
      break;
    }
  }
}

void load_listeners(const field& f, config& cfg) {
  std::vector<listener_marks> marks;
  int index = 0;
  for (const auto& element : *f.node.as_array()) {
    auto& listener = cfg.listeners.emplace_back();
    const auto path = f.path + "[" + std::to_string(++index) + "]";
    marks.push_back(load_listener(*element.as_table(), path, f.errors, listener));
  }
  check_listeners(cfg.listeners, marks, f.errors);
}

// The top level is a key table too: one row per section.
constexpr auto sections = std::to_array<key_spec<config>>({
    {"daemon", kind::table, [](const field& f, config& c) { apply_section(f, daemon_keys(), c.daemon); }},
    {"control", kind::table, [](const field& f, config& c) { apply_section(f, control_keys(), c.control); }},
    {"metrics", kind::table, load_metrics},
    {"backplane", kind::table, [](const field& f, config& c) { apply_section(f, backplane_keys(), c.backplane); }},
    {"listener", kind::table_array, load_listeners},
});

}  // namespace

std::string error::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + (key.empty() ? "" : key + ": ") +
         message;
}

load_result parse_config(std::string_view text, const std::string& file) {
  load_result result;
  try {
    result.cfg.source = file;
    reporter errors(file);
    try {
      const toml::table doc = toml::parse(text, std::string_view(file));
      const std::span<const key_spec<config>> top(sections);
      std::vector<std::string_view> valid;
      append_names(top, valid);
      for (auto&& [key, value] : doc) {
        field f{value, std::string(key.str()), errors};
        if (const auto* spec = find_key(top, key.str()))
          apply(*spec, f, result.cfg);
        else
          errors.add(key.source().begin, f.path, unknown_key_message(key.str(), valid));
      }
    } catch (const toml::parse_error& e) {
      errors.add(e.source().begin, "", std::string(e.description()));
    }
    result.errors = errors.take();
  } catch (const std::exception& e) {  // e.g. out of memory: report, never throw
    result.errors.push_back({file, 0, 0, "", std::string("internal error: ") + e.what()});
  }
  return result;
}

load_result load_config_file(const std::string& path) {
  auto unreadable = [&](const std::string& why) {
    load_result result;
    result.cfg.source = path;
    result.errors.push_back({path, 0, 0, "", "cannot read the config file: " + why});
    return result;
  };
  try {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return unreadable("it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return unreadable(std::generic_category().message(errno));
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return unreadable("read error");
    return parse_config(text, path);
  } catch (const std::exception& e) {
    return unreadable(e.what());
  }
}

}  // namespace plexd::config

namespace plexd::config {

std::optional<std::string> read_control_endpoint(const std::string& path) {
  // Lenient on purpose: the CLI must reach a daemon even while the file
  // being edited has mistakes elsewhere (the daemon runs on its old copy).
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    auto doc = toml::parse(text, path);
    if (auto endpoint = doc["control"]["endpoint"].value<std::string>()) return *endpoint;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace plexd::config
