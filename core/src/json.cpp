#include "plexd/core/json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace plexd::core::json {

namespace {
const std::string empty_string;
const array empty_array;
const object empty_object;
const value null_value;
constexpr int max_depth = 32;

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

class parser {
 public:
  explicit parser(std::string_view t) : t_(t) {}

  parse_result run() {
    parse_result r;
    r.val = parse_value(0);
    skip_ws();
    if (error_.empty() && pos_ != t_.size()) fail("trailing characters");
    r.error = error_;
    if (!r.ok()) r.val = value();
    return r;
  }

 private:
  void fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at offset " + std::to_string(pos_);
  }
  void skip_ws() {
    while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r')) ++pos_;
  }
  bool literal(std::string_view word) {
    if (t_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  value parse_value(int depth) {
    if (depth > max_depth) {
      fail("nesting too deep");
      return {};
    }
    skip_ws();
    if (pos_ >= t_.size()) {
      fail("unexpected end");
      return {};
    }
    const char c = t_[pos_];
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') return value(parse_string());
    if (literal("true")) return value(true);
    if (literal("false")) return value(false);
    if (literal("null")) return value(nullptr);
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    fail("unexpected character");
    return {};
  }

  value parse_number() {
    const std::size_t start = pos_;
    if (t_[pos_] == '-') ++pos_;
    auto digits = [&] {
      const std::size_t s = pos_;
      while (pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9') ++pos_;
      return pos_ > s;
    };
    if ((pos_ + 1 < t_.size() && t_[pos_] == '0' && t_[pos_ + 1] >= '0' && t_[pos_ + 1] <= '9') || !digits()) {
      fail("bad number");
      return {};
    }
    if (pos_ < t_.size() && t_[pos_] == '.') {
      ++pos_;
      if (!digits()) fail("bad number");
    }
    if (pos_ < t_.size() && (t_[pos_] == 'e' || t_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < t_.size() && (t_[pos_] == '+' || t_[pos_] == '-')) ++pos_;
      if (!digits()) fail("bad number");
    }
    const std::string text(t_.substr(start, pos_ - start));
    return value(std::strtod(text.c_str(), nullptr));
  }

  std::string parse_string() {
    std::string out;
    ++pos_;  // opening quote
    while (pos_ < t_.size()) {
      const char c = t_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        fail("control character in string");
        return out;
      }
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      if (++pos_ >= t_.size()) break;
      const char e = t_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(cp)) {
            fail("bad \\u escape");
            return out;
          }
          if (cp >= 0xD800 && cp <= 0xDBFF && t_.substr(pos_, 2) == "\\u") {
            // A high surrogate: joined with the low surrogate that should follow.
            const std::size_t save = pos_;
            pos_ += 2;
            unsigned low = 0;
            if (hex4(low) && low >= 0xDC00 && low <= 0xDFFF)
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            else
              pos_ = save;  // parsed again as an escape of its own
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate
          append_utf8(out, cp);
          break;
        }
        default:
          fail("bad escape");
          return out;
      }
    }
    fail("unterminated string");
    return out;
  }

  // Four hex digits at pos_ (and nothing else: no sign, space or "0x").
  bool hex4(unsigned& cp) {
    if (pos_ + 4 > t_.size()) return false;
    cp = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const char h = t_[pos_ + i];
      const int d = h >= '0' && h <= '9'   ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                           : -1;
      if (d < 0) return false;
      cp = cp << 4 | static_cast<unsigned>(d);
    }
    pos_ += 4;
    return true;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  value parse_array(int depth) {
    ++pos_;
    array a;
    skip_ws();
    if (pos_ < t_.size() && t_[pos_] == ']') {
      ++pos_;
      return value(std::move(a));
    }
    while (error_.empty()) {
      a.push_back(parse_value(depth + 1));
      skip_ws();
      if (pos_ < t_.size() && t_[pos_] == ',') {
        ++pos_;
      } else if (pos_ < t_.size() && t_[pos_] == ']') {
        ++pos_;
        return value(std::move(a));
      } else {
        fail("expected ',' or ']'");
      }
    }
    return {};
  }

  value parse_object(int depth) {
    ++pos_;
    object o;
    skip_ws();
    if (pos_ < t_.size() && t_[pos_] == '}') {
      ++pos_;
      return value(std::move(o));
    }
    while (error_.empty()) {
      skip_ws();
      if (pos_ >= t_.size() || t_[pos_] != '"') {
        fail("expected a key");
        break;
      }
      std::string key = parse_string();
      skip_ws();
      if (pos_ >= t_.size() || t_[pos_] != ':') {
        fail("expected ':'");
        break;
      }
      ++pos_;
      o[key] = parse_value(depth + 1);
      skip_ws();
      if (pos_ < t_.size() && t_[pos_] == ',') {
        ++pos_;
      } else if (pos_ < t_.size() && t_[pos_] == '}') {
        ++pos_;
        return value(std::move(o));
      } else {
        fail("expected ',' or '}'");
      }
    }
    return {};
  }

  std::string_view t_;
  std::size_t pos_ = 0;
  std::string error_;
};
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

parse_result parse(std::string_view text) {
  return parser(text).run();
}

}  // namespace plexd::core::json
