// JSON values: accessors that never throw, and the writer (shortest form,
// control characters and invalid UTF-8 escaped).
#include "plexd/core/json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace plexd::core::json {

namespace {
const std::string empty_string;
const array empty_array;
const object empty_object;
const value null_value;

// Length of the valid UTF-8 sequence at s[0], or 0 if invalid: overlong
// forms, surrogates and code points above U+10FFFF are invalid (RFC 3629).
std::size_t utf8_length(std::string_view s) {
  const auto c = static_cast<unsigned char>(s[0]);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range (Unicode table 3-7)
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  }
  if (n == 0 || n > s.size()) return 0;
  const auto c1 = static_cast<unsigned char>(s[1]);
  if (c1 < lo || c1 > hi) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if ((static_cast<unsigned char>(s[i]) >> 6) != 0x2) return 0;
  }
  return n;
}

}  // namespace

const std::string& value::as_string() const {
  return is_string() ? std::get<3>(v_) : empty_string;
}
const array& value::as_array() const {
  return is_array() ? *std::get<4>(v_) : empty_array;
}
const object& value::as_object() const {
  return is_object() ? *std::get<5>(v_) : empty_object;
}

const value& value::operator[](std::string_view key) const {
  if (!is_object()) return null_value;
  const auto& o = *std::get<5>(v_);
  auto it = o.find(key);
  return it == o.end() ? null_value : it->second;
}

void quote(std::string& out, std::string_view s) {
  out += '"';
  while (!s.empty()) {
    const auto c = static_cast<unsigned char>(s[0]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c >= 0x80) {
      const std::size_t n = utf8_length(s);
      if (n == 0) {
        out += "\\ufffd";
        s.remove_prefix(1);
        continue;
      }
      out += s.substr(0, n);
      s.remove_prefix(n);
      continue;
    } else {
      out += static_cast<char>(c);
    }
    s.remove_prefix(1);
  }
  out += '"';
}

void value::dump_to(std::string& out) const {
  switch (v_.index()) {
    case 0:
      out += "null";
      break;
    case 1:
      out += std::get<1>(v_) ? "true" : "false";
      break;
    case 2: {
      const double d = std::get<2>(v_);
      char buf[32];
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.007199254740992e15) {
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
      } else if (std::isfinite(d)) {
        *std::to_chars(buf, buf + sizeof buf - 1, d).ptr = '\0';  // the shortest text that reads back as d
      } else {
        std::snprintf(buf, sizeof buf, "null");
      }
      out += buf;
      break;
    }
    case 3:
      quote(out, std::get<3>(v_));
      break;
    case 4: {
      out += '[';
      bool first = true;
      for (const auto& v : *std::get<4>(v_)) {
        if (!first) out += ',';
        first = false;
        v.dump_to(out);
      }
      out += ']';
      break;
    }
    default: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : *std::get<5>(v_)) {
        if (!first) out += ',';
        first = false;
        quote(out, k);
        out += ':';
        v.dump_to(out);
      }
      out += '}';
    }
  }
}

std::string value::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

}  // namespace plexd::core::json
