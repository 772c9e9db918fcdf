// The shipped example config is the built-in default, word for word.
#include <catch2/catch.hpp>

#include "harness.hpp"
#include "plexd/config/loader.hpp"

TEST_CASE("packaging/plexd.toml is the built-in config text", "[config]") {
  const auto shipped = plexd::test::read_file(std::string(PLEXD_SOURCE_DIR) + "/packaging/plexd.toml");
  CHECK(shipped == std::string(plexd::config::builtin_config_text()));
}

TEST_CASE("a config without a control endpoint key gets the platform default", "[config]") {
  plexd::test::temp_dir dir;
  const auto cfg = dir.write("c.toml", "[[listener]]\nname = \"e\"\nbind = \"127.0.0.1:1\"\nhandler = \"echo\"\n");
  auto r = plexd::test::run_plexd({"check", "-c", cfg});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("control off") == std::string::npos);
  const auto off = dir.write("off.toml", "[control]\nendpoint = \"\"\n");
  CHECK(plexd::test::run_plexd({"check", "-c", off}).out.find("control off") != std::string::npos);
}
