// What a reload does to each listener, decided from the old and the new
// config alone (no sockets), so the rules can be read and tested in one
// place; server::apply carries the plan out.
#pragma once

#include <string>
#include <vector>

#include "plexd/config/config.hpp"

namespace plexd::core {

enum class listener_change {
  keep,      // same name, bind and handler: connections stay, new options apply
  add,       // a new name
  remove,    // gone from the config: stop accepting, drain
  rehandle,  // same bind, other handler: the old acceptor lets go first, then the new one binds
  move,      // other bind: the new one binds first; the old keeps serving if that fails
};

struct listener_step {
  std::string name;
  listener_change change = listener_change::keep;
  const config::listener_config* next = nullptr;  // null for remove
};

/// Removals first (their ports may be reused), then the new config's
/// listeners in config order.
std::vector<listener_step> plan_reload(const std::vector<config::listener_config>& current,
                                       const std::vector<config::listener_config>& next);

}  // namespace plexd::core
