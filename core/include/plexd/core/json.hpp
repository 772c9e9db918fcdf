// A small JSON value with a strict parser and a writer: enough for the
// control protocol (one object per line) and the status document, without
// another dependency. The parser is bounded (depth, size) and never throws.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "plexd/platform/result.hpp"

namespace plexd::core::json {

class value;
using array = std::vector<value>;
using object = std::map<std::string, value, std::less<>>;

class value {
 public:
  value() = default;
  value(std::nullptr_t) {}
  value(bool b) : v_(b) {}
  value(int n) : v_(static_cast<double>(n)) {}
  value(long n) : v_(static_cast<double>(n)) {}
  value(long long n) : v_(static_cast<double>(n)) {}
  value(unsigned n) : v_(static_cast<double>(n)) {}
  value(unsigned long n) : v_(static_cast<double>(n)) {}
  value(unsigned long long n) : v_(static_cast<double>(n)) {}
  value(double d) : v_(d) {}
  value(const char* s) : v_(std::string(s)) {}
  value(std::string s) : v_(std::move(s)) {}
  value(std::string_view s) : v_(std::string(s)) {}
  value(array a) : v_(std::make_shared<array>(std::move(a))) {}
  value(object o) : v_(std::make_shared<object>(std::move(o))) {}

  bool is_null() const { return v_.index() == 0; }
  bool is_bool() const { return v_.index() == 1; }
  bool is_number() const { return v_.index() == 2; }
  bool is_string() const { return v_.index() == 3; }
  bool is_array() const { return v_.index() == 4; }
  bool is_object() const { return v_.index() == 5; }

  bool as_bool(bool fallback = false) const { return is_bool() ? std::get<1>(v_) : fallback; }
  double as_number(double fallback = 0) const { return is_number() ? std::get<2>(v_) : fallback; }
  const std::string& as_string() const;
  const array& as_array() const;
  const object& as_object() const;
  /// Member lookup; a null value when absent or not an object.
  const value& operator[](std::string_view key) const;

  /// Compact JSON text (integers without a fraction).
  std::string dump() const;
  void dump_to(std::string& out) const;

 private:
  std::variant<std::monostate, bool, double, std::string, std::shared_ptr<array>, std::shared_ptr<object>> v_;
};

using parse_result = platform::result<value>;

/// Parses one JSON document (trailing whitespace allowed). Limits depth to 32.
parse_result parse(std::string_view text);

/// Appends `s` as a quoted JSON string (control bytes escaped, invalid
/// UTF-8 replaced so the output is always valid JSON).
void quote(std::string& out, std::string_view s);

}  // namespace plexd::core::json
