#include <catch2/catch.hpp>

#include "plexd/core/json.hpp"

namespace json = plexd::core::json;

TEST_CASE("json round trip", "[json]") {
  auto r = json::parse(R"({"a":[1,2.5,true,null,"x\n\u00e9"],"b":{"c":-3}})");
  REQUIRE(r.ok());
  CHECK(r.val["a"].as_array().size() == 5);
  CHECK(r.val["a"].as_array()[4].as_string() == "x\n\xC3\xA9");
  CHECK(r.val["b"]["c"].as_number() == -3);
  CHECK(r.val.dump() == R"({"a":[1,2.5,true,null,"x\né"],"b":{"c":-3}})");
}

TEST_CASE("json rejects malformed input without throwing", "[json]") {
  for (const char* bad : {"", "{", "{\"a\"}", "[1,]", "\"abc", "tru", "{\"a\":1}x", "01x", "[\"\\q\"]"}) {
    CHECK_FALSE(json::parse(bad).ok());
  }
  std::string deep(100, '[');
  CHECK_FALSE(json::parse(deep).ok());
}

TEST_CASE("json output is valid for binary strings", "[json]") {
  std::string s("a\0b\xff\xfe\x01", 6);
  std::string out;
  json::quote(out, s);
  CHECK(out == "\"a\\u0000b\\ufffd\\ufffd\\u0001\"");
  CHECK(json::parse(out).ok());
}
