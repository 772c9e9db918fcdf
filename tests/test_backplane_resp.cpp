// The RESP2 codec: exact encoding, replies split at every byte, and the
// bounds that keep a hostile server from making the daemon allocate.
#include <catch2/catch.hpp>

#include <string>

#include "resp.hpp"

namespace resp = plexd::core::resp;

namespace {
// Feeds `wire` one byte at a time; returns the replies parsed.
std::vector<resp::value> parse_bytewise(const std::string& wire, resp::parser& p) {
  std::vector<resp::value> out;
  for (char ch : wire) {
    p.feed(std::string_view(&ch, 1));
    resp::value v;
    while (p.next(v) == resp::result::value) out.push_back(v);
  }
  return out;
}
}  // namespace

TEST_CASE("resp encodes a command as an array of bulk strings - binary safe", "[backplane]") {
  std::string out;
  resp::encode(out, {"XADD", "k", std::string_view("a\r\n\0b", 5)});
  CHECK(out == std::string("*3\r\n$4\r\nXADD\r\n$1\r\nk\r\n$5\r\na\r\n\0b\r\n", 32));
}

TEST_CASE("resp parses every reply type split at every byte", "[backplane]") {
  const std::string wire =
      "+OK\r\n-ERR wrong\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*-1\r\n*0\r\n"
      "*1\r\n*2\r\n$12\r\nplexd:room:a\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nt\r\n$2\r\nhi\r\n";
  resp::parser p;
  auto got = parse_bytewise(wire, p);
  REQUIRE(got.size() == 8);
  CHECK(got[0].kind == resp::type::simple);
  CHECK(got[0].text == "OK");
  CHECK(got[1].is_error());
  CHECK(got[1].text == "ERR wrong");
  CHECK(got[2].integer == -42);
  CHECK(got[3].text == "he\r\no");
  CHECK(got[4].is_null());
  CHECK(got[5].is_null());
  CHECK(got[6].kind == resp::type::array);
  CHECK(got[6].elements.empty());
  const auto& entry = got[7].elements[0].elements[1].elements[0];
  CHECK(entry.elements[0].text == "1-1");
  CHECK(entry.elements[1].elements[1].text == "hi");
  CHECK(p.buffered() == 0);
}

TEST_CASE("resp refuses sizes beyond its limits before allocating", "[backplane]") {
  resp::limits small;
  small.max_bulk = 1024;
  small.max_elements = 16;
  small.max_depth = 3;
  for (const std::string wire :
       {"$1025\r\n", "$9223372036854775807\r\n", "*17\r\n", "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "$-2\r\n",
        "?what\r\n", "$3\r\nabcXY", ":12x\r\n", "\r\n"}) {
    resp::parser p(small);
    p.feed(wire);
    resp::value v;
    INFO(wire);
    CHECK(p.next(v) == resp::result::error);
    CHECK_FALSE(p.error().empty());
  }
  // A type line that never ends is cut at max_line, not buffered forever.
  resp::parser p(small);
  p.feed("+" + std::string(5000, 'x'));
  resp::value v;
  CHECK(p.next(v) == resp::result::error);
}

TEST_CASE("resp waits for a large bulk string without re-parsing every read", "[backplane]") {
  resp::parser p;
  const std::string body(1 << 20, 'z');
  const std::string wire = "$" + std::to_string(body.size()) + "\r\n" + body + "\r\n";
  resp::value v;
  std::size_t i = 0;
  for (; i + 1000 < wire.size(); i += 1000) {
    p.feed(std::string_view(wire).substr(i, 1000));
    REQUIRE(p.next(v) == resp::result::need_more);
  }
  p.feed(std::string_view(wire).substr(i));
  REQUIRE(p.next(v) == resp::result::value);
  CHECK(v.text == body);
}
