// Config text for the loader's tests: parse it, and read its errors back
// in the "LINE:COL: KEY: MESSAGE" form the loader reports them in.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "plexd/config/loader.hpp"

namespace plexd::test {

inline config::load_result parse(std::string_view text) {
  return config::parse_config(text, "t.toml");
}

inline std::string all_errors(const config::load_result& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

inline config::config parse_ok(std::string_view text) {
  auto r = parse(text);
  INFO(all_errors(r));
  REQUIRE(r.ok());
  return r.cfg;
}

/// Parses text that has exactly one problem and returns "LINE:COL: KEY: MESSAGE".
inline std::string only_error(std::string_view text) {
  auto r = parse(text);
  INFO(text);
  INFO(all_errors(r));
  REQUIRE(r.errors.size() == 1);
  auto s = r.errors[0].to_string();
  REQUIRE(s.rfind("t.toml:", 0) == 0);
  return s.substr(7);
}

/// A valid [[listener]] on lines 1-4; `extra` starts on line 5.
inline std::string listener(const std::string& extra, const std::string& handler = "echo") {
  return "[[listener]]\nname = \"a\"\nbind = \"127.0.0.1:9000\"\nhandler = \"" + handler + "\"\n" + extra;
}

inline config::listener_config one_listener(const std::string& extra, const std::string& handler = "echo") {
  auto cfg = parse_ok(listener(extra, handler));
  REQUIRE(cfg.listeners.size() == 1);
  return cfg.listeners[0];
}

}  // namespace plexd::test
