// platform::result: the one shape of an operation that fails with a message.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "plexd/platform/result.hpp"

using plexd::platform::fail;
using plexd::platform::result;

namespace {
result<int> halve(int n) {
  if (n % 2 != 0) return fail(std::to_string(n) + " is odd");
  return n / 2;
}

result<void> check_even(int n) {
  if (auto h = halve(n); !h) return fail(h.error());
  return {};
}
}  // namespace

TEST_CASE("result carries a value or the reason there is none", "[result]") {
  const auto ok = halve(8);
  REQUIRE(ok);
  CHECK(ok.ok());
  CHECK(*ok == 4);
  const auto bad = halve(7);
  CHECK_FALSE(bad);
  CHECK(bad.error() == "7 is odd");
}

TEST_CASE("result<void> and move-only values", "[result]") {
  CHECK(check_even(2).ok());
  const auto odd = check_even(3);
  CHECK_FALSE(odd.ok());
  CHECK(odd.error() == "3 is odd");

  result<std::unique_ptr<int>> owned(std::make_unique<int>(5));
  REQUIRE(owned);
  const std::unique_ptr<int> taken = std::move(*owned);
  CHECK(*taken == 5);
  result<std::unique_ptr<int>> none = fail("no value");
  CHECK(none.error() == "no value");
}
