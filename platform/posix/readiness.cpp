#include "plexd/platform/readiness.hpp"

// epoll is Linux's; other POSIX systems (and a build that forces Asio's
// select() reactor, which exists to run the per-socket waits other
// systems use) get no set.
#if defined(__linux__) && !defined(ASIO_DISABLE_EPOLL)
#define PLEXD_READINESS_EPOLL 1  // NOLINT(cppcoreguidelines-macro-usage): a build switch, not a value
#include <sys/epoll.h>
#endif

#include <asio/posix/stream_descriptor.hpp>

#include <algorithm>
#include <utility>

namespace plexd::platform {

struct readiness_set::impl {
  impl(asio::io_context& io, int fd, std::function<void()> ready) : set(io, fd), on_ready(std::move(ready)) {}
  asio::posix::stream_descriptor set;  // owns the epoll descriptor
  std::function<void()> on_ready;
};

readiness_set::readiness_set(asio::io_context& io, std::function<void()> on_ready) {
#ifdef PLEXD_READINESS_EPOLL
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return;
  impl_ = std::make_unique<impl>(io, fd, std::move(on_ready));
#else
  (void)io;
  (void)on_ready;
#endif
}

readiness_set::~readiness_set() = default;

bool readiness_set::available() const {
  return impl_ != nullptr;
}

bool readiness_set::watch(asio::ip::tcp::socket::native_handle_type socket, void* token) {
#ifndef PLEXD_READINESS_EPOLL
  (void)socket;
  (void)token;
  return false;
#else
  if (!impl_) return false;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = token;
  return ::epoll_ctl(impl_->set.native_handle(), EPOLL_CTL_ADD, socket, &ev) == 0;
#endif
}

std::size_t readiness_set::take(std::span<report> out) {
#ifndef PLEXD_READINESS_EPOLL
  (void)out;
  return 0;
#else
  if (!impl_) return 0;
  constexpr int most = 64;
  epoll_event events[most];
  const int want = static_cast<int>(std::min<std::size_t>(out.size(), most));
  const int n = ::epoll_wait(impl_->set.native_handle(), events, want, 0);
  for (int i = 0; i < n; ++i) {
    const std::uint32_t e = events[i].events;
    const bool ending = (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    const bool arrived = (e & EPOLLIN) != 0;
    // An error or hang-up is news for a waiting writer too: its next write shows it.
    const bool room = (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
    out[static_cast<std::size_t>(i)] = {
        events[i].data.ptr,
        ending ? input_state::ending : (arrived ? input_state::arrived : input_state::none),
        room ? output_state::room : output_state::unchanged,
    };
  }
  return n > 0 ? static_cast<std::size_t>(n) : 0;
#endif
}

void readiness_set::cancel() {
  if (!impl_) return;
  asio::error_code ignored;
  impl_->set.cancel(ignored);
}

void readiness_set::arm() {
  if (!impl_) return;
  impl_->set.async_wait(asio::posix::stream_descriptor::wait_read, [p = impl_.get()](const asio::error_code& ec) {
    if (!ec) p->on_ready();
  });
}

}  // namespace plexd::platform
