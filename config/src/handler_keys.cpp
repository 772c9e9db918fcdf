// The handlers' option keys (echo, greet, chat; forward's are in
// forward_keys.cpp) and the registry that pairs each handler with its keys,
// its defaults and its whole-table check.
#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <variant>

#include "schema.hpp"

namespace plexd::config::detail {
namespace {

template <class T>
T& opt(handler_options& o) {
  return std::get<T>(o);  // the loader applies a handler's keys only after setting its defaults
}

constexpr auto echo_table = std::to_array<key_spec<handler_options>>({
    {"framing", kind::string,
     [](const field& f, handler_options& o) {
       if (auto i = choose_key(f, {"raw", "line"}); i >= 0)
         opt<echo_options>(o).framing_mode = i ? framing::line : framing::raw;
     }},
    {"prefix", kind::string, [](const field& f, handler_options& o) { opt<echo_options>(o).prefix = f.text(); }},
    {"suffix", kind::string, [](const field& f, handler_options& o) { opt<echo_options>(o).suffix = f.text(); }},
});

constexpr auto greet_table = std::to_array<key_spec<handler_options>>({
    {"message", kind::string, [](const field& f, handler_options& o) { opt<greet_options>(o).message = f.text(); }},
    {"await_reply", kind::boolean,
     [](const field& f, handler_options& o) { opt<greet_options>(o).await_reply = f.boolean(); }},
});

constexpr auto chat_table = std::to_array<key_spec<handler_options>>({
    // Without {line} every message would be dropped on the floor.
    {"format", kind::string,
     [](const field& f, handler_options& o) {
       if (f.text().find("{line}") == std::string::npos) return f.fail("the format must contain {line}");
       opt<chat_options>(o).format = f.text();
     }},
    {"announce", kind::boolean,
     [](const field& f, handler_options& o) { opt<chat_options>(o).announce = f.boolean(); }},
    {"welcome", kind::string, [](const field& f, handler_options& o) { opt<chat_options>(o).welcome = f.text(); }},
    {"goodbye", kind::string, [](const field& f, handler_options& o) { opt<chat_options>(o).goodbye = f.text(); }},
    {"line_rate", kind::string,
     [](const field& f, handler_options& o) {
       // "" (the documented default) means no limit.
       auto& rate = opt<chat_options>(o).line_rate;
       if (f.text().empty()) {
         rate = 0;
         return;
       }
       accepted(f, parse_rate(f.text(), rate));
     }},
    {"line_burst", kind::integer,
     [](const field& f, handler_options& o) {
       std::size_t burst = 0;
       set_unsigned_key(f, burst, 1, std::numeric_limits<std::int64_t>::max());
       opt<chat_options>(o).line_burst = static_cast<double>(burst);
     }},
    // The name becomes part of a Redis key: keep it to a safe alphabet.
    {"room", kind::string,
     [](const field& f, handler_options& o) {
       const auto& v = f.text();
       const bool valid = safe_name(v);
       if (!valid) return f.fail("invalid room name '" + v + "': up to 64 letters, digits, '-', '_' and '.'");
       opt<chat_options>(o).room = v;
     }},
});

// One row per handler: its option keys and the checks no single key can
// make. The primary template is declared only: a handler added to
// handler_options without a row here fails to compile.
template <class Options>
struct handler_row;
template <>
struct handler_row<echo_options> {
  static std::span<const key_spec<handler_options>> keys() { return echo_table; }
  static constexpr auto check = nullptr;
};
template <>
struct handler_row<greet_options> {
  static std::span<const key_spec<handler_options>> keys() { return greet_table; }
  static constexpr auto check = nullptr;
};
template <>
struct handler_row<chat_options> {
  static std::span<const key_spec<handler_options>> keys() { return chat_table; }
  static constexpr auto check = nullptr;
};
template <>
struct handler_row<discard_options> {
  static std::span<const key_spec<handler_options>> keys() { return {}; }
  static constexpr auto check = nullptr;
};
template <>
struct handler_row<forward_options> {
  static std::span<const key_spec<handler_options>> keys() { return forward_keys(); }
  static constexpr auto check = check_forward;
};

template <std::size_t... I>
std::array<handler_entry, sizeof...(I)> make_registry(std::index_sequence<I...> /*alternatives*/) {
  return {{handler_entry{std::variant_alternative_t<I, handler_options>::name,
                         handler_row<std::variant_alternative_t<I, handler_options>>::keys(),
                         handler_options{std::in_place_index<I>},
                         handler_row<std::variant_alternative_t<I, handler_options>>::check}...}};
}
}  // namespace

std::span<const handler_entry> handlers() {
  // Built from the variant, so registry position == options.index().
  static const auto registry = make_registry(std::make_index_sequence<std::variant_size_v<handler_options>>{});
  return registry;
}

const handler_entry* find_handler(std::string_view name) {
  for (const auto& entry : handlers()) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}
}  // namespace plexd::config::detail
