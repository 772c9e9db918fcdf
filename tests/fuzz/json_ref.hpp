// A reference recognizer for JSON text (RFC 8259 grammar), written as
// plainly as possible, to compare json::parse's accept/reject decisions with.
// It follows json::parse's documented limits: nesting deeper than
// max_depth is refused (the same way: a value at depth > 32), and string
// contents are bytes (UTF-8 is not validated on input, only on output).
#pragma once

#include <cstddef>
#include <string_view>

namespace fuzz::json_ref {

class recognizer {
 public:
  static constexpr int max_depth = 32;
  explicit recognizer(std::string_view t) : t_(t) {}

  bool accepts() {
    ws();
    if (!value(0)) return false;
    ws();
    return i_ == t_.size();
  }

 private:
  bool at(char c) const { return i_ < t_.size() && t_[i_] == c; }
  bool eat(char c) {
    if (!at(c)) return false;
    ++i_;
    return true;
  }
  bool digit() const { return i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9'; }
  static bool hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
  void ws() {
    while (at(' ') || at('\t') || at('\n') || at('\r')) ++i_;
  }
  bool word(std::string_view w) {
    if (t_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }

  bool value(int depth) {
    if (depth > max_depth) return false;
    if (at('{')) return object(depth);
    if (at('[')) return array(depth);
    if (at('"')) return string();
    if (at('-') || digit()) return number();
    return word("true") || word("false") || word("null");
  }

  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool number() {
    eat('-');
    if (eat('0')) {
      // no further integer digits after a leading zero
    } else if (digit()) {
      while (digit()) ++i_;
    } else {
      return false;
    }
    if (eat('.')) {
      if (!digit()) return false;
      while (digit()) ++i_;
    }
    if (eat('e') || eat('E')) {
      if (!eat('+')) eat('-');
      if (!digit()) return false;
      while (digit()) ++i_;
    }
    return true;
  }

  bool string() {
    ++i_;  // opening quote
    while (i_ < t_.size()) {
      const auto c = static_cast<unsigned char>(t_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (i_ >= t_.size()) return false;
      const char e = t_[i_++];
      if (e == 'u') {
        for (int k = 0; k < 4; ++k, ++i_) {
          if (i_ >= t_.size() || !hex(t_[i_])) return false;
        }
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }

  bool array(int depth) {
    ++i_;
    ws();
    if (eat(']')) return true;
    while (true) {
      ws();
      if (!value(depth + 1)) return false;
      ws();
      if (eat(']')) return true;
      if (!eat(',')) return false;
    }
  }

  bool object(int depth) {
    ++i_;
    ws();
    if (eat('}')) return true;
    while (true) {
      ws();
      if (!at('"') || !string()) return false;
      ws();
      if (!eat(':')) return false;
      ws();
      if (!value(depth + 1)) return false;
      ws();
      if (eat('}')) return true;
      if (!eat(',')) return false;
    }
  }

  std::string_view t_;
  std::size_t i_ = 0;
};

inline bool accepts(std::string_view text) {
  return recognizer(text).accepts();
}

}  // namespace fuzz::json_ref
