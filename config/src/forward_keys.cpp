// The forward handler's keys: upstreams, balancing, health and stream
// limits. Kept apart from schema.cpp because it is the largest table.
#include <algorithm>
#include <array>
#include <type_traits>

#include "plexd/platform/endpoint.hpp"
#include "schema.hpp"

namespace plexd::config {

std::string upstream_address::to_string() const {
  return platform::join_host_port(host, port);
}

namespace detail {
namespace {

forward_options& fwd(handler_options& o) {
  return std::get<forward_options>(o);  // the loader applies a handler's keys only after setting its defaults
}

void set_upstreams(const field& f, handler_options& o) {
  auto& list = fwd(o).upstreams;
  list.clear();
  const auto& array = *f.node.as_array();
  if (array.empty()) return f.fail("at least one upstream is required");
  for (const auto& element : array) {
    const auto& text = element.as_string()->get();
    bind_address parsed;
    if (auto message = parse_bind(text, parsed); !message.empty()) {
      f.fail_at(element, message);
      continue;
    }
    if (parsed.host == "*") {
      f.fail_at(element, "bad upstream '" + text + "': '*' is for binding; name the host to connect to");
      continue;
    }
    if (parsed.port == 0) {
      f.fail_at(element, "bad upstream '" + text + "': port must be from 1 to 65535");
      continue;
    }
    upstream_address up{parsed.host, parsed.port};
    if (std::find(list.begin(), list.end(), up) != list.end()) {
      f.fail_at(element, "upstream '" + text + "' is listed twice");
      continue;
    }
    list.push_back(std::move(up));
  }
}

template <class Member>
void set_count(const field& f, handler_options& o, Member member, std::int64_t lo, std::int64_t hi) {
  std::size_t v = fwd(o).*member;
  set_unsigned_key(f, v, lo, hi);
  fwd(o).*member = static_cast<std::remove_reference_t<decltype(fwd(o).*member)>>(v);
}

// A duration that must be positive: zero would mean "fail at once".
void set_positive(const field& f, duration& out) {
  duration d = out;
  set_duration_key(f, d);
  if (d.count() <= 0) return f.fail("must be longer than 0");
  out = d;
}

void set_buffer(const field& f, handler_options& o) {
  set_count(f, o, &forward_options::buffer, 1024, std::int64_t{1} << 30);
}

constexpr auto forward_table = std::to_array<key_spec<handler_options>>({
    {"upstreams", kind::string_array, set_upstreams},
    {"balance", kind::string,
     [](const field& f, handler_options& o) {
       if (auto i = choose_key(f, {"round_robin", "least_conn", "first"}); i >= 0)
         fwd(o).balance_mode = static_cast<balance>(i);
     }},
    {"connect_timeout", kind::duration,
     [](const field& f, handler_options& o) { set_positive(f, fwd(o).connect_timeout); }},
    {"max_fails", kind::integer,
     [](const field& f, handler_options& o) { set_count(f, o, &forward_options::max_fails, 0, 1000); }},
    {"fail_timeout", kind::duration, [](const field& f, handler_options& o) { set_positive(f, fwd(o).fail_timeout); }},
    {"health_check", kind::duration,
     [](const field& f, handler_options& o) { set_duration_key(f, fwd(o).health_check); }},
    {"health_rise", kind::integer,
     [](const field& f, handler_options& o) { set_count(f, o, &forward_options::health_rise, 1, 100); }},
    {"health_fall", kind::integer,
     [](const field& f, handler_options& o) { set_count(f, o, &forward_options::health_fall, 1, 100); }},
    {"proxy_protocol", kind::string,
     [](const field& f, handler_options& o) {
       if (auto i = choose_key(f, {"", "v1", "v2"}); i >= 0) fwd(o).proxy_protocol = static_cast<proxy_header>(i);
     }},
    {"half_close", kind::boolean, [](const field& f, handler_options& o) { fwd(o).half_close = f.boolean(); }},
    {"fin_timeout", kind::duration, [](const field& f, handler_options& o) { set_positive(f, fwd(o).fin_timeout); }},
    {"buffer", kind::integer, set_buffer},
});

}  // namespace

std::span<const key_spec<handler_options>> forward_keys() {
  return forward_table;
}

void check_forward(const toml::table& table, const std::string& path, listener_config& out, reporter& errors) {
  if (!table.contains("upstreams"))
    errors.add(table.source().begin, path + ".upstreams", "missing required key 'upstreams' (handler 'forward')");
  // The client-bound half of a pair queues in the session, which disconnects
  // a client over max_output: the buffer must fit under it.
  const auto& o = std::get<forward_options>(out.options);
  if (o.buffer <= out.max_output) return;
  const auto* at = table.get("buffer");
  if (at == nullptr) at = table.get("max_output");
  if (at != nullptr)
    errors.add(at->source().begin, path + (table.contains("buffer") ? ".buffer" : ".max_output"),
               "buffer (" + std::to_string(o.buffer) + ") must not exceed max_output (" +
                   std::to_string(out.max_output) + ")");
}

}  // namespace detail
}  // namespace plexd::config
