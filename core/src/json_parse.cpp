// JSON text into values: strict RFC 8259 (no comments, no trailing commas),
// nesting limited so hostile input cannot exhaust the stack.
#include <cstdlib>

#include "plexd/core/json.hpp"

namespace plexd::core::json {

namespace {
constexpr int max_depth = 32;

class parser {
 public:
  explicit parser(std::string_view t) : t_(t) {}

  parse_result run() {
    value v = parse_value(0);
    skip_ws();
    if (error_.empty() && pos_ != t_.size()) fail("trailing characters");
    if (!error_.empty()) return platform::fail(error_);
    return v;
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
      if (!parse_escape(out)) return out;
    }
    fail("unterminated string");
    return out;
  }

  // The escape after a backslash (pos_ is past the backslash), appended
  // to `out`; false (and failed) if it is not one JSON allows.
  bool parse_escape(std::string& out) {
    const char e = t_[pos_++];
    constexpr std::string_view from = "\"\\/bfnrt";
    constexpr std::string_view to = "\"\\/\b\f\n\r\t";
    if (const auto at = from.find(e); at != std::string_view::npos) {
      out += to[at];
      return true;
    }
    if (e != 'u') {
      fail("bad escape");
      return false;
    }
    unsigned cp = 0;
    if (!hex4(cp)) {
      fail("bad \\u escape");
      return false;
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
    return true;
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

parse_result parse(std::string_view text) {
  return parser(text).run();
}

}  // namespace plexd::core::json
