#include "resp.hpp"

#include <charconv>

namespace plexd::core::resp {

void encode(std::string& out, std::span<const std::string_view> args) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (auto a : args) {
    out += '$';
    out += std::to_string(a.size());
    out += "\r\n";
    out.append(a);
    out += "\r\n";
  }
}

void encode(std::string& out, std::initializer_list<std::string_view> args) {
  encode(out, std::span<const std::string_view>(args.begin(), args.size()));
}

void parser::reset() {
  buffer_.clear();
  offset_ = 0;
  wanted_ = 0;
  error_.clear();
}

result parser::fail(std::string why) {
  error_ = std::move(why);
  return result::error;
}

result parser::next(value& out) {
  if (!error_.empty()) return result::error;
  if (buffered() == 0 || buffered() < wanted_) {
    if (buffered() > limits_.max_reply)
      return fail("reply larger than " + std::to_string(limits_.max_reply) + " bytes");
    return result::need_more;
  }
  std::size_t pos = offset_;
  value v;
  const auto r = parse(pos, v, 0);
  if (r == result::need_more) {
    wanted_ = std::max(wanted_, pos - offset_);
    if (buffered() > limits_.max_reply)
      return fail("reply larger than " + std::to_string(limits_.max_reply) + " bytes");
    return r;
  }
  if (r == result::error) return r;
  // The same bound whether a reply arrived whole or in pieces.
  if (pos - offset_ > limits_.max_reply)
    return fail("reply larger than " + std::to_string(limits_.max_reply) + " bytes");
  out = std::move(v);
  offset_ = pos;
  wanted_ = 0;
  // Compact once the consumed prefix dominates, so the buffer stays small.
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > 4096 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return result::value;
}

// On need_more, `pos` is left at the least size the reply needs so far.
result parser::read_line(std::size_t& pos, std::string_view& line) {
  const auto end = buffer_.find("\r\n", pos);
  if (end == std::string::npos) {
    // One byte of slack: a '\r' at the end may be the start of the CRLF.
    if (buffer_.size() - pos > limits_.max_line + 1) return fail("protocol line too long");
    pos = buffer_.size() + 1;
    return result::need_more;
  }
  if (end - pos > limits_.max_line) return fail("protocol line too long");
  line = std::string_view(buffer_).substr(pos, end - pos);
  pos = end + 2;
  return result::value;
}

namespace {
bool to_int(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

result parser::parse(std::size_t& pos, value& out, unsigned depth) {
  if (depth > limits_.max_depth) return fail("replies nested deeper than " + std::to_string(limits_.max_depth));
  std::string_view line;
  if (auto r = read_line(pos, line); r != result::value) return r;
  if (line.empty()) return fail("empty protocol line");
  const char tag = line.front();
  const auto body = line.substr(1);
  switch (tag) {
    case '+':
    case '-':
      out.kind = tag == '+' ? type::simple : type::error;
      out.text = body;
      return result::value;
    case ':':
      out.kind = type::integer;
      return to_int(body, out.integer) ? result::value : fail("bad integer reply");
    case '$': {
      std::int64_t n = 0;
      if (!to_int(body, n) || n < -1) return fail("bad bulk length");
      if (n == -1) return out.kind = type::null, result::value;
      if (static_cast<std::uint64_t>(n) > limits_.max_bulk) return fail("bulk string larger than the limit");
      const auto size = static_cast<std::size_t>(n);
      if (buffer_.size() - pos < size + 2) {
        pos += size + 2;
        return result::need_more;
      }
      if (buffer_.compare(pos + size, 2, "\r\n") != 0) return fail("bulk string not followed by CRLF");
      out.kind = type::bulk;
      out.text.assign(buffer_, pos, size);
      pos += size + 2;
      return result::value;
    }
    case '*': {
      std::int64_t n = 0;
      if (!to_int(body, n) || n < -1) return fail("bad array length");
      if (n == -1) return out.kind = type::null, result::value;
      if (static_cast<std::uint64_t>(n) > limits_.max_elements) return fail("array longer than the limit");
      out.kind = type::array;
      // Each element takes at least 3 bytes: an absurd count cannot reserve memory it has no bytes for.
      out.elements.reserve(std::min(static_cast<std::size_t>(n), (buffer_.size() - pos) / 3 + 1));
      for (std::int64_t i = 0; i < n; ++i) {
        value element;
        if (auto r = parse(pos, element, depth + 1); r != result::value) return r;
        out.elements.push_back(std::move(element));
      }
      return result::value;
    }
    default:
      return fail("unknown reply type byte");
  }
}

}  // namespace plexd::core::resp
