#include "reload_plan.hpp"

#include <algorithm>

namespace plexd::core {

std::vector<listener_step> plan_reload(const std::vector<config::listener_config>& current,
                                       const std::vector<config::listener_config>& next) {
  auto find = [](const std::vector<config::listener_config>& in, const std::string& name) {
    auto it = std::find_if(in.begin(), in.end(), [&](const auto& l) { return l.name == name; });
    return it == in.end() ? nullptr : &*it;
  };
  std::vector<listener_step> steps;
  for (const auto& old : current) {
    if (find(next, old.name) == nullptr) steps.push_back({old.name, listener_change::remove, nullptr});
  }
  for (const auto& lc : next) {
    const auto* old = find(current, lc.name);
    listener_change change = listener_change::add;
    if (old != nullptr && old->bind == lc.bind) {
      change = old->handler == lc.handler ? listener_change::keep : listener_change::rehandle;
    } else if (old != nullptr) {
      change = listener_change::move;
    }
    steps.push_back({lc.name, change, &lc});
  }
  return steps;
}

}  // namespace plexd::core
