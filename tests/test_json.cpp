#include <catch2/catch.hpp>

#include "plexd/core/json.hpp"

TEST_CASE("json round trip", "[json]") {
  auto r = plexd::core::json::parse(R"({"a":[1,2.5,true,null,"x\n\u00e9"],"b":{"c":-3}})");
  REQUIRE(r.ok());
  CHECK(r.value()["a"].as_array().size() == 5);
  CHECK(r.value()["a"].as_array()[4].as_string() == "x\n\xC3\xA9");
  CHECK(r.value()["b"]["c"].as_number() == -3);
  CHECK(r.value().dump() == R"({"a":[1,2.5,true,null,"x\né"],"b":{"c":-3}})");
}

TEST_CASE("json rejects malformed input without throwing", "[json]") {
  for (const char* bad : {"", "{", "{\"a\"}", "[1,]", "\"abc", "tru", "{\"a\":1}x", "01x", "[\"\\q\"]"}) {
    CHECK_FALSE(plexd::core::json::parse(bad).ok());
  }
  std::string deep(100, '[');
  CHECK_FALSE(plexd::core::json::parse(deep).ok());
}

TEST_CASE("json output is valid for binary strings", "[json]") {
  std::string s("a\0b\xff\xfe\x01", 6);
  std::string out;
  plexd::core::json::quote(out, s);
  CHECK(out == "\"a\\u0000b\\ufffd\\ufffd\\u0001\"");
  CHECK(plexd::core::json::parse(out).ok());
}

TEST_CASE("json output never carries invalid UTF-8 - overlong forms and surrogates included", "[json]") {
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
    std::string out;
    plexd::core::json::quote(out, bad);
    CHECK(out.find("\\ufffd") != std::string::npos);
  }
  std::string ok;
  plexd::core::json::quote(ok, "\xC3\xA9\xF0\x9F\x98\x80");  // é and an emoji stay as they are
  CHECK(ok == "\"\xC3\xA9\xF0\x9F\x98\x80\"");
}

TEST_CASE("json surrogate pairs in escapes become one character", "[json]") {
  auto pair = plexd::core::json::parse(R"("\ud83d\ude00")");
  REQUIRE(pair.ok());
  CHECK(pair.value().as_string() == "\xF0\x9F\x98\x80");
  auto lone = plexd::core::json::parse(R"("\ud800x")");
  REQUIRE(lone.ok());
  CHECK(lone.value().as_string() == "\xEF\xBF\xBDx");  // U+FFFD
  CHECK_FALSE(plexd::core::json::parse(R"("\u-001")").ok());
  CHECK_FALSE(plexd::core::json::parse("[01]").ok());
}
