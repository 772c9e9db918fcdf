#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace plexd::test;

TEST_CASE("plexd --version prints the backend", "[cli]") {
  auto r = run_plexd({"--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("plexd ") == 0);
}
