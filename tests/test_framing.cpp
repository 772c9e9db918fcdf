#include <catch2/catch.hpp>

#include <vector>

#include "plexd/core/line_framer.hpp"

using plexd::core::split_lines;

namespace {
std::vector<std::string> feed(std::string& partial, std::string_view data, std::size_t max, bool& ok) {
  std::vector<std::string> lines;
  ok = split_lines(partial, data, max, [&](std::string_view l) { lines.emplace_back(l); });
  return lines;
}
}  // namespace

TEST_CASE("lines split across reads are joined", "[framing]") {
  std::string partial;
  bool ok = false;
  CHECK(feed(partial, "ab", 100, ok).empty());
  CHECK(ok);
  CHECK(feed(partial, "c\nde\r\nf", 100, ok) == std::vector<std::string>{"abc", "de"});
  CHECK(partial == "f");
  CHECK(feed(partial, "\n", 100, ok) == std::vector<std::string>{"f"});
  CHECK(partial.empty());
}

TEST_CASE("empty lines and a lone CR are kept as lines", "[framing]") {
  std::string partial;
  bool ok = false;
  CHECK(feed(partial, "\n\r\nx\n", 100, ok) == std::vector<std::string>{"", "", "x"});
}

TEST_CASE("a line over max_line fails early - complete or not", "[framing]") {
  std::string partial;
  bool ok = true;
  feed(partial, "12345", 5, ok);
  CHECK(ok);
  feed(partial, "6", 5, ok);
  CHECK_FALSE(ok);
  std::string p2;
  feed(p2, "123456\n", 5, ok);
  CHECK_FALSE(ok);
  std::string p3;
  CHECK(feed(p3, "12345\n", 5, ok) == std::vector<std::string>{"12345"});
  CHECK(ok);
}
