// RESP2, the Redis wire protocol, in the small subset plexd speaks: requests
// are arrays of bulk strings; replies are parsed incrementally from whatever
// the socket delivered, with every size and the nesting depth bounded so a
// hostile or broken server cannot make the daemon allocate without limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace plexd::core::resp {

enum class type : std::uint8_t { simple, error, integer, bulk, array, null };

struct value {
  type kind = type::null;
  std::string text;  // simple, error and bulk
  std::int64_t integer = 0;
  std::vector<value> elements;  // array

  bool is_error() const { return kind == type::error; }
  bool is_null() const { return kind == type::null; }
};

/// Appends one command (an array of bulk strings) to `out`.
void encode(std::string& out, std::span<const std::string_view> args);
void encode(std::string& out, std::initializer_list<std::string_view> args);

struct limits {
  std::size_t max_bulk = std::size_t{16} << 20;     // one bulk string
  std::size_t max_elements = std::size_t{1} << 20;  // one array
  std::size_t max_reply = std::size_t{64} << 20;    // everything buffered for one reply
  std::size_t max_line = 1024;                      // a type line (+, -, :, $, *)
  unsigned max_depth = 8;
};

enum class result : std::uint8_t { value, need_more, error };

class parser {
 public:
  explicit parser(limits l = {}) : limits_(l) {}

  /// Adds bytes read from the server.
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  /// The next complete reply, if there is one. After `error` the stream is
  /// unusable (the caller drops the connection); error() says why.
  result next(value& out);
  const std::string& error() const { return error_; }
  std::size_t buffered() const { return buffer_.size() - offset_; }
  void reset();

 private:
  result parse(std::size_t& pos, value& out, unsigned depth);
  result read_line(std::size_t& pos, std::string_view& line);
  result fail(std::string why);

  limits limits_;
  std::string buffer_;
  std::size_t offset_ = 0;
  // While a reply is incomplete, how many bytes it needs at least: a large
  // bulk string arriving in many reads is then not re-parsed at every read.
  std::size_t wanted_ = 0;
  std::string error_;
};

}  // namespace plexd::core::resp
