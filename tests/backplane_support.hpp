// Shared by the backplane tests: plexd instances on one test redis-server.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "redis_server.hpp"

namespace plexd::test {

/// Skips (with the reason asserted) where no redis-server can be started.
#define PLEXD_REQUIRE_REDIS()                                               \
  do {                                                                      \
    const auto why_not = ::plexd::test::redis_server::unavailable_reason(); \
    if (!why_not.empty()) {                                                 \
      SUCCEED("skipped: " + why_not);                                       \
      return;                                                               \
    }                                                                       \
  } while (0)

inline std::string backplane_toml(const std::string& url, const std::string& instance) {
  return "[backplane]\nredis = \"" + url + "\"\ninstance = \"" + instance + "\"\n";
}

inline std::string room_listener(const std::string& name, const std::string& room, const std::string& extra = "") {
  return listener_toml(name, "chat", "room = \"" + room + "\"\n" + extra);
}

/// A daemon with chat listeners in shared rooms, up and joined.
inline std::unique_ptr<plexd_daemon> room_instance(const redis_server& redis, const std::string& instance,
                                                   const std::string& listeners,
                                                   const std::vector<std::string>& rooms = {"lobby"},
                                                   const std::string& daemon_extra = "") {
  auto d = std::make_unique<plexd_daemon>(listeners, daemon_extra + backplane_toml(redis.url(), instance));
  REQUIRE(d->wait_ready());
  REQUIRE(d->wait_log("backplane: up", 15s));
  // Each room's resume point is fixed once it is joined: nothing after that is missed.
  for (const auto& room : rooms) REQUIRE(d->wait_log("room " + room + " joined at entry", 10s));
  return d;
}

}  // namespace plexd::test
