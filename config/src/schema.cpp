// The schema of a config: one table of keys per section (the handlers' are in
// handler_keys.cpp and forward_keys.cpp). Adding a key or a handler is adding
// a table row; the loader never names a key itself.
#include "schema.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>
#include <variant>

#include "address.hpp"

namespace plexd::config::detail {

bool accepted(const field& f, const std::string& message) {
  if (!message.empty()) f.fail(message);
  return message.empty();
}

bool safe_name(const std::string& v) {
  return v.size() <= 64 &&
         std::all_of(v.begin(), v.end(), [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

namespace {

template <class T>
constexpr std::int64_t max_of() {
  constexpr auto m = std::numeric_limits<T>::max();
  return std::cmp_greater(m, std::numeric_limits<std::int64_t>::max()) ? std::numeric_limits<std::int64_t>::max()
                                                                       : static_cast<std::int64_t>(m);
}

template <class T>
void set_int(const field& f, T& out, std::int64_t lo, std::int64_t hi = max_of<T>()) {
  auto v = f.integer();
  if (v < lo || v > hi) {
    f.fail("out of range: must be " +
           (hi == max_of<T>() ? "at least " + std::to_string(lo)
                              : "between " + std::to_string(lo) + " and " + std::to_string(hi)) +
           ", got " + std::to_string(v));
    return;
  }
  out = static_cast<T>(v);
}

// Past the maximum, timers and tick counters would wrap (a huge idle_timeout
// turning into a few hundred milliseconds), so longer values are refused.
void set_duration(const field& f, duration& out) {
  const std::string limit = "too long; the maximum is 30 days (\"720h\", " +
                            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(max_duration).count()) +
                            " seconds)";
  if (const auto* seconds = f.node.as_integer()) {
    auto v = seconds->get();
    if (v < 0) return f.fail("bad duration " + std::to_string(v) + ": must not be negative");
    if (v > std::chrono::duration_cast<std::chrono::seconds>(max_duration).count()) {
      return f.fail("bad duration " + std::to_string(v) + ": " + limit);
    }
    out = duration{v * 1000};
    return;
  }
  duration parsed{};
  if (!parse_duration(f.text(), parsed)) {
    return f.fail("bad duration '" + f.text() +
                  "': expected a whole number with a unit ms, s, m or h (e.g. \"250ms\", \"5s\") or a number of "
                  "seconds");
  }
  if (parsed > max_duration) return f.fail("bad duration '" + f.text() + "': " + limit);
  out = parsed;
}

// Returns the index of the value among `allowed`, or -1 after reporting it.
int choose(const field& f, const std::vector<std::string_view>& allowed) {
  auto it = std::find(allowed.begin(), allowed.end(), f.text());
  if (it != allowed.end()) return static_cast<int>(it - allowed.begin());
  auto suggestion = did_you_mean(f.text(), allowed);
  f.fail("'" + f.text() + "' is not one of " + join(allowed) +
         (suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?"));
  return -1;
}

void set_endpoint(const field& f, control_config& c) {
  std::string_view v = f.text();
  auto colon = v.find(':');
  auto scheme = v.substr(0, colon == std::string_view::npos ? 0 : colon + 1), rest = v.substr(scheme.size());
  if (!v.empty() && scheme != "unix:" && scheme != "pipe:" && scheme != "tcp:")
    return f.fail("bad control endpoint '" + f.text() +
                  "': expected \"unix:PATH\", \"pipe:NAME\", \"tcp:HOST:PORT\" or \"\" (off)");
  if (!v.empty() && rest.empty())
    return f.fail("bad control endpoint '" + f.text() + "': nothing after '" + std::string(scheme) + "'");
  if (scheme == "tcp:") {
    bind_address bind;
    if (!accepted(f, parse_bind(rest, bind))) return;
    // The control channel has no authentication, so it must never face a network.
    if (!is_loopback_host(bind.host))
      return f.fail("a tcp control endpoint must be on a loopback address (127.x.x.x, ::1 or localhost)");
  }
  c.endpoint = v;
  c.endpoint_set = true;
}

void set_networks(const field& f, std::vector<network>& out) {
  out.clear();
  for (const auto& element : *f.node.as_array()) {
    network n;
    if (auto message = parse_network(element.as_string()->get(), n); message.empty())
      out.push_back(std::move(n));
    else
      f.fail_at(element, message);
  }
}

void set_name(const field& f, listener_config& l) {
  const auto& v = f.text();
  bool valid =
      !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return is_alnum(c) || c == '-' || c == '_'; });
  if (!valid) return f.fail("invalid listener name '" + v + "': use only letters, digits, '-' and '_'");
  l.name = v;
}

void set_handler(const field& f, listener_config& l) {
  const auto* h = find_handler(f.text());
  if (h == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& entry : handlers()) names.push_back(entry.name);
    auto suggestion = did_you_mean(f.text(), names);
    return f.fail("unknown handler '" + f.text() + "'" +
                  (suggestion.empty() ? " (known: " + join(names) + ")" : "; did you mean '" + suggestion + "'?"));
  }
  l.handler = h->name;
  l.options = h->defaults;
}

constexpr auto daemon_table = std::to_array<key_spec<daemon_config>>({
    {"log_level", kind::string,
     [](const field& f, daemon_config& d) {
       if (choose(f, {"trace", "debug", "info", "warn", "error"}) >= 0) d.log_level = f.text();
     }},
    {"log_file", kind::string, [](const field& f, daemon_config& d) { d.log_file = f.text(); }},
    {"log_file_max_bytes", kind::integer,
     [](const field& f, daemon_config& d) { set_int(f, d.log_file_max_bytes, 1); }},
    {"log_file_count", kind::integer, [](const field& f, daemon_config& d) { set_int(f, d.log_file_count, 1, 100); }},
    {"threads", kind::integer, [](const field& f, daemon_config& d) { set_int(f, d.threads, 0, 256); }},
    {"shutdown_grace", kind::duration, [](const field& f, daemon_config& d) { set_duration(f, d.shutdown_grace); }},
    {"user", kind::string, [](const field& f, daemon_config& d) { d.user = f.text(); }},
});

constexpr auto control_table = std::to_array<key_spec<control_config>>({
    {"endpoint", kind::string, set_endpoint},
});

constexpr auto metrics_table = std::to_array<key_spec<metrics_config>>({
    // Whether the host is loopback depends on allow_remote: checked by the loader.
    {"listen", kind::string,
     [](const field& f, metrics_config& m) {
       bind_address bind;
       if (f.text().empty()) {
         m.listen.reset();
       } else if (accepted(f, parse_bind(f.text(), bind))) {
         m.listen = std::move(bind);
       }
     }},
    {"allow_remote", kind::boolean, [](const field& f, metrics_config& m) { m.allow_remote = f.boolean(); }},
});

constexpr auto backplane_table = std::to_array<key_spec<backplane_config>>({
    {"redis", kind::string, [](const field& f, backplane_config& b) { accepted(f, parse_redis_url(f.text(), b)); }},
    {"instance", kind::string,
     [](const field& f, backplane_config& b) {
       const auto& v = f.text();
       const bool valid = safe_name(v);
       if (!valid) return f.fail("invalid instance name '" + v + "': up to 64 letters, digits, '-', '_' and '.'");
       b.instance = v;
     }},
});

constexpr auto listener_table = std::to_array<key_spec<listener_config>>({
    {"name", kind::string, set_name},
    {"bind", kind::string, [](const field& f, listener_config& l) { accepted(f, parse_bind(f.text(), l.bind)); }},
    {"handler", kind::string, set_handler},
    {"max_connections", kind::integer, [](const field& f, listener_config& l) { set_int(f, l.max_connections, 1); }},
    {"idle_timeout", kind::duration, [](const field& f, listener_config& l) { set_duration(f, l.idle_timeout); }},
    {"max_line", kind::integer, [](const field& f, listener_config& l) { set_int(f, l.max_line, 1); }},
    {"max_output", kind::integer, [](const field& f, listener_config& l) { set_int(f, l.max_output, 1); }},
    {"allow", kind::string_array, [](const field& f, listener_config& l) { set_networks(f, l.allow); }},
    {"deny", kind::string_array, [](const field& f, listener_config& l) { set_networks(f, l.deny); }},
    {"max_per_source", kind::integer, [](const field& f, listener_config& l) { set_int(f, l.max_per_source, 0); }},
    {"rate", kind::string,
     [](const field& f, listener_config& l) { accepted(f, parse_rate(f.text(), l.rate.per_second)); }},
    // Needs a rate and defaults to one second's worth of it: checked by the loader.
    {"burst", kind::integer, [](const field& f, listener_config& l) {
       std::size_t burst = 0;
       set_int(f, burst, 1);
       l.rate.burst = static_cast<double>(burst);
     }},
    {"accept_proxy", kind::boolean, [](const field& f, listener_config& l) { l.accept_proxy = f.boolean(); }},
    {"proxy_from", kind::string_array, [](const field& f, listener_config& l) { set_networks(f, l.proxy_from); }},
});

}  // namespace

std::span<const key_spec<daemon_config>> daemon_keys() {
  return daemon_table;
}
std::span<const key_spec<control_config>> control_keys() {
  return control_table;
}
std::span<const key_spec<metrics_config>> metrics_keys() {
  return metrics_table;
}
std::span<const key_spec<backplane_config>> backplane_keys() {
  return backplane_table;
}
std::span<const key_spec<listener_config>> listener_keys() {
  return listener_table;
}

void set_duration_key(const field& f, duration& out) {
  set_duration(f, out);
}
void set_unsigned_key(const field& f, std::size_t& out, std::int64_t lo, std::int64_t hi) {
  set_int(f, out, lo, hi);
}
int choose_key(const field& f, const std::vector<std::string_view>& allowed) {
  return choose(f, allowed);
}

}  // namespace plexd::config::detail
