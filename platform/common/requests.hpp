// Private to platform/: routes stop/reload requests to the live os_events.
#pragma once

#include <functional>

#include <asio/io_context.hpp>

namespace plexd::platform::detail {

struct request_target {
  asio::io_context* io = nullptr;
  std::function<void()> on_stop;
  std::function<void()> on_reload;
};

void set_request_target(request_target* target);
enum class request { stop, reload };

/// Posts `r` to the live target; a stop that arrives before there is one is
/// kept and delivered when the target is set.
void deliver(request r);

}  // namespace plexd::platform::detail
