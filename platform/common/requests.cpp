// The process-wide hook behind request_stop()/request_reload(): whichever
// os_events is alive receives them on its io_context.
#include "requests.hpp"

#include <mutex>

#include <asio/post.hpp>

namespace plexd::platform::detail {
namespace {
// Process-wide by nature: signals and service controls have one target.
std::mutex mutex;                  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
request_target* target = nullptr;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
// A stop requested before the daemon's loop exists (a Windows service
// stopped while its listeners are still opening) is delivered as soon as
// one registers, instead of being lost.
bool pending_stop = false;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
}  // namespace

void set_request_target(request_target* t) {
  std::lock_guard lock(mutex);
  target = t;
  if (target != nullptr && pending_stop) {
    pending_stop = false;
    auto cb = target->on_stop;
    asio::post(*target->io, [cb] { cb(); });
  }
}

void deliver(request r) {
  std::lock_guard lock(mutex);
  if (target == nullptr) {
    if (r == request::stop) pending_stop = true;
    return;
  }
  auto cb = r == request::stop ? target->on_stop : target->on_reload;
  asio::post(*target->io, [cb] { cb(); });
}
}  // namespace plexd::platform::detail

namespace plexd::platform {
void request_stop() {
  detail::deliver(detail::request::stop);
}
void request_reload() {
  detail::deliver(detail::request::reload);
}
}  // namespace plexd::platform
