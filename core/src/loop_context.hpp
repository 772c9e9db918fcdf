// What listeners and sessions share: the event-loop threads.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "plexd/core/handler.hpp"
#include "worker.hpp"

namespace plexd::core {

struct loop_context {
  std::vector<std::unique_ptr<worker>> workers;
  std::atomic<unsigned> next_worker{0};
  /// True while some listener has an idle timeout (the sweep then looks at sessions).
  std::atomic<bool> idle_checks{false};
  handler_env env;

  /// Round-robin: new connections spread over the threads.
  worker& pick_worker() {
    const auto n = next_worker.fetch_add(1, std::memory_order_relaxed);
    return *workers[n % workers.size()];
  }
  worker& main_worker() { return *workers.front(); }
};

}  // namespace plexd::core
