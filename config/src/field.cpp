// A TOML value against the kind its key accepts: the one place that turns
// a type mismatch into an operator's message ("expected a string, got an
// integer"), so every table reports it the same way.
#include <string>

#include "schema.hpp"

namespace plexd::config::detail {

bool check_type(const field& f, kind expected) {
  auto got = [](const toml::node& n) {
    // Indexed by toml::node_type: none, table, array, string, integer, floating_point, boolean, date, time, date_time.
    static_assert(static_cast<int>(toml::node_type::date_time) == 9);
    constexpr std::string_view names[] = {"nothing", "a table",   "an array", "a string", "an integer",
                                          "a float", "a boolean", "a date",   "a time",   "a date-time"};
    return std::string(names[static_cast<std::size_t>(n.type())]);
  };
  const auto& n = f.node;
  auto mismatch = [&](std::string_view what) {
    f.fail("expected " + std::string(what) + ", got " + got(n));
    return false;
  };
  switch (expected) {
    case kind::string:
      return n.is_string() || mismatch("a string");
    case kind::integer:
      return n.is_integer() || mismatch("an integer");
    case kind::boolean:
      return n.is_boolean() || mismatch("a boolean");
    case kind::duration:
      return n.is_string() || n.is_integer() ||
             mismatch("a duration (a string such as \"5s\" or an integer of seconds)");
    case kind::string_array: {
      if (!n.is_array()) return mismatch("an array of strings");
      bool ok = true;
      for (const auto& element : *n.as_array()) {
        if (element.is_string()) continue;
        f.fail_at(element, "expected an array of strings, but an element is " + got(element));
        ok = false;
      }
      return ok;
    }
    case kind::table:
      return n.is_table() || mismatch("a table");
    case kind::table_array:
      return n.is_array_of_tables() || (n.is_array() && n.as_array()->empty()) ||
             mismatch("an array of tables ([[" + f.path + "]])");
  }
  return false;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (auto w : words) out += (out.empty() ? "" : ", ") + std::string(w);
  return out;
}

}  // namespace plexd::config::detail
