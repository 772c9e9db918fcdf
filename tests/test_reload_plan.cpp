// Unit tests of the reload rules: what happens to each listener when the
// config changes, decided without binding anything.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/src/reload_plan.hpp"

using namespace plexd;
using core::listener_change;

namespace {
config::listener_config listener(const std::string& name, std::uint16_t port, const std::string& handler) {
  config::listener_config l;
  l.name = name;
  l.bind.host = "127.0.0.1";
  l.bind.port = port;
  l.handler = handler;
  return l;
}
}  // namespace

TEST_CASE("reload plan: keep, add, remove, rehandle, move", "[reload][unit]") {
  const std::vector<config::listener_config> current{listener("a", 1, "echo"), listener("b", 2, "echo"),
                                                     listener("c", 3, "chat"), listener("d", 4, "discard")};
  auto changed_options = listener("a", 1, "echo");
  changed_options.max_line = 10;
  const std::vector<config::listener_config> next{changed_options, listener("c", 3, "echo"),
                                                  listener("d", 5, "discard"), listener("e", 6, "greet")};
  const auto steps = core::plan_reload(current, next);
  REQUIRE(steps.size() == 5);
  CHECK(steps[0].name == "b");
  CHECK(steps[0].change == listener_change::remove);
  CHECK(steps[0].next == nullptr);
  CHECK(steps[1].name == "a");
  CHECK(steps[1].change == listener_change::keep);
  CHECK(steps[1].next->max_line == 10);
  CHECK(steps[2].change == listener_change::rehandle);
  CHECK(steps[3].change == listener_change::move);
  CHECK(steps[4].name == "e");
  CHECK(steps[4].change == listener_change::add);
}

TEST_CASE("reload plan: an identical config keeps everything", "[reload][unit]") {
  const std::vector<config::listener_config> same{listener("a", 1, "echo"), listener("b", 2, "chat")};
  for (const auto& step : core::plan_reload(same, same)) CHECK(step.change == listener_change::keep);
  CHECK(core::plan_reload(same, {}).size() == 2);
  CHECK(core::plan_reload({}, same).front().change == listener_change::add);
}
