// The backplane: chat rooms shared by several instances through Redis
// Streams, on the daemon's main event loop (no threads of its own).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <asio/io_context.hpp>

#include "plexd/config/config.hpp"
#include "plexd/core/room_bus.hpp"

namespace plexd::core {

struct backplane_status {
  std::string state = "off";  // up | connecting | down | off
  std::string redis;          // "HOST:PORT/DB", never the password
  std::string instance;
  std::uint64_t published = 0;  // entries Redis accepted from this instance
  std::uint64_t received = 0;   // entries from other instances delivered here
  std::uint64_t reconnects = 0;
  std::uint64_t dropped = 0;  // lines not published: queue full while Redis was unreachable
  std::string last_error;
};

class backplane : public room_bus {
 public:
  /// Each entry goes to the stream "plexd:room:NAME", trimmed to about this many entries.
  static constexpr std::size_t retention = 10000;

  /// `cfg` must be enabled(). Runs on `io` (the main loop).
  static std::shared_ptr<backplane> create(asio::io_context& io, const config::backplane_config& cfg);
  /// Connects (and keeps reconnecting) in the background.
  virtual void start() = 0;
  virtual void stop() = 0;
  /// Main loop only.
  virtual backplane_status status() const = 0;
};

}  // namespace plexd::core
