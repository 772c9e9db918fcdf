// Chat rooms that span instances: what a chat handler sees of the
// backplane. Null in handler_env when no [backplane] is configured.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace plexd::core {

/// A chat listener taking part in a shared room.
class room_member {
 public:
  virtual ~room_member() = default;
  /// On the main loop: a line or notice from another instance, in order.
  virtual void deliver(std::shared_ptr<const std::string> text) = 0;
  /// On the main loop: the publish queue has room again; paused senders may resume.
  virtual void publish_unblocked() = 0;
};

enum class publish_pressure : std::uint8_t { ok, pause_sender };

class room_bus {
 public:
  virtual ~room_bus() = default;
  /// Main loop only. Returns the membership id for leave().
  virtual std::uint64_t join(const std::string& room, std::weak_ptr<room_member> member) = 0;
  /// Any thread.
  virtual void leave(std::uint64_t id) = 0;
  /// Any thread; one sender's texts keep their order. `pause_sender` when
  /// the queue towards Redis is over its cap: stop reading that sender
  /// until publish_unblocked().
  virtual publish_pressure publish(const std::string& room, std::string text) = 0;
};

}  // namespace plexd::core
