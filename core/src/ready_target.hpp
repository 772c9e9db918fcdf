// What a worker's readiness set reports to: a socket owner that reads
// when told its socket received something (see plexd/platform/readiness.hpp).
#pragma once

#include "plexd/platform/readiness.hpp"

namespace plexd::core {

class ready_target {
 public:
  /// Input, end of input or an error reached the socket.
  virtual void on_ready(platform::input_state input) = 0;
  /// Keep alive / let go: a batch of reports holds every target it names
  /// while any of them is handled, since handling one may close another.
  virtual void retain_target() = 0;
  virtual void release_target() = 0;

 protected:
  ready_target() = default;
  ~ready_target() = default;
  ready_target(const ready_target&) = default;
  ready_target& operator=(const ready_target&) = default;
  ready_target(ready_target&&) = default;
  ready_target& operator=(ready_target&&) = default;
};

}  // namespace plexd::core
