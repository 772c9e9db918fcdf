// At most one log record per second for one kind of event, from any
// thread: a flood of disconnects must not become a flood of log lines
// (each of which may be written to a file, the journal or an event log).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace plexd::core {

class log_limiter {
 public:
  /// True if a record may be written now; `suppressed` then says how many
  /// were held back since the last one. False: counted, write nothing.
  bool allow(std::uint64_t& suppressed) {
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    std::int64_t next = next_ms_.load(std::memory_order_relaxed);
    if (now < next || !next_ms_.compare_exchange_strong(next, now + 1000, std::memory_order_relaxed)) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
    return true;
  }

 private:
  std::atomic<std::int64_t> next_ms_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace plexd::core
