#include "plexd/platform/accept_backoff.hpp"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "plexd/platform/sockets.hpp"

namespace plexd::platform {

namespace {
constexpr std::chrono::milliseconds first_delay{50};
constexpr std::chrono::milliseconds max_delay{1000};
}  // namespace

accept_backoff::accept_backoff(asio::io_context& io, std::string what) : timer_(io), what_(std::move(what)) {}

bool accept_backoff::defer(const asio::error_code& ec, std::function<void()> retry) {
  if (!is_resource_exhaustion(ec)) return false;
  if (!exhausted_) {
    spdlog::warn("{}: accept failed: {}; backing off until descriptors free up", what_, ec.message());
    exhausted_ = true;
  }
  delay_ = delay_.count() == 0 ? first_delay : std::min(max_delay, delay_ * 2);
  timer_.expires_after(delay_);
  timer_.async_wait([retry = std::move(retry)](const asio::error_code& wec) {
    if (!wec) retry();
  });
  return true;
}

void accept_backoff::succeeded() {
  if (exhausted_) {
    spdlog::info("{}: accepting again", what_);
    exhausted_ = false;
  }
  delay_ = std::chrono::milliseconds(0);
}

void accept_backoff::cancel() {
  timer_.cancel();
}

}  // namespace plexd::platform
