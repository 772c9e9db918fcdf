// Per-listener counters. Atomics because sessions on every event-loop
// thread update them; exact, never sampled.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace plexd::core {

enum class refusal : std::uint8_t { max_connections, denied, max_per_source, rate, count_ };

inline std::string_view refusal_name(refusal r) {
  switch (r) {
    case refusal::max_connections:
      return "max_connections";
    case refusal::denied:
      return "denied";
    case refusal::max_per_source:
      return "max_per_source";
    case refusal::rate:
      return "rate";
    default:
      return "?";
  }
}

struct listener_stats {
  std::atomic<std::int64_t> active{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> errors{0};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(refusal::count_)> refused_by{};

  void count_refusal(refusal r) {
    refused.fetch_add(1, std::memory_order_relaxed);
    refused_by[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
};

/// One upstream of a forward listener, as status reports it.
struct upstream_status {
  std::string address;
  std::string state;  // "up" | "down"
  std::int64_t active = 0;
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
};

}  // namespace plexd::core
