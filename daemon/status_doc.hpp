// The documents the control endpoint answers with: `status` (the daemon,
// each listener with its upstreams, the backplane) and a reload's outcome.
// The shape is the contract of `plexd status --json`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "plexd/core/json.hpp"

namespace plexd::core {
class server;
class backplane;
}  // namespace plexd::core

namespace plexd::daemon {

/// What the daemon itself knows for its status: the rest comes from the
/// server and the backplane.
struct daemon_facts {
  std::string config_file;
  std::uint64_t config_generation = 0;
  const core::json::value* last_reload = nullptr;
  std::chrono::duration<double> uptime{};
  std::string control;
};

/// `backplane` is null when none is configured.
core::json::value status_document(const core::server& server, const core::backplane* backplane,
                                  const daemon_facts& facts);

/// How a reload ended: "applied" (the new config is in force), "partly
/// applied" (some listeners failed), "rejected" (the old config still runs).
enum class reload_outcome { applied, partly_applied, rejected };

core::json::value reload_document(reload_outcome outcome, const std::vector<std::string>& errors);

}  // namespace plexd::daemon
