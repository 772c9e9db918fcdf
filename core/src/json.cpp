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

// Length of the valid UTF-8 sequence at s[0], or 0 if invalid.
std::size_t utf8_length(std::string_view s) {
  const auto c = static_cast<unsigned char>(s[0]);
  std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || n > s.size()) return 0;
  for (std::size_t i = 1; i < n; ++i) {
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
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (pos_ + 4 > t_.size()) {
            fail("bad \\u escape");
            return out;
          }
          const std::string hex(t_.substr(pos_, 4));
          char* end = nullptr;
          const unsigned long cp = std::strtoul(hex.c_str(), &end, 16);
          if (end != hex.c_str() + 4 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
            fail("bad \\u escape");
            return out;
          }
          pos_ += 4;
          append_utf8(out, static_cast<unsigned>(cp));
          break;
        }
        default: fail("bad escape"); return out;
      }
    }
    fail("unterminated string");
    return out;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    // Surrogates are not paired here: the control protocol never needs them.
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
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

const std::string& value::as_string() const { return is_string() ? std::get<3>(v_) : empty_string; }
const array& value::as_array() const { return is_array() ? *std::get<4>(v_) : empty_array; }
const object& value::as_object() const { return is_object() ? *std::get<5>(v_) : empty_object; }

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
    case 0: out += "null"; break;
    case 1: out += std::get<1>(v_) ? "true" : "false"; break;
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
    case 3: quote(out, std::get<3>(v_)); break;
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

parse_result parse(std::string_view text) { return parser(text).run(); }

}  // namespace plexd::core::json
