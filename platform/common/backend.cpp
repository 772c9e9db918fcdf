#include "plexd/platform/backend.hpp"

#include <asio/detail/config.hpp>

namespace plexd::platform {

std::string asio_backend() {
#if defined(ASIO_HAS_IOCP)
  return "iocp";
#elif defined(ASIO_HAS_IO_URING_AS_DEFAULT)
  return "io_uring";
#elif defined(ASIO_HAS_EPOLL)
  return "epoll";
#elif defined(ASIO_HAS_KQUEUE)
  return "kqueue";
#elif defined(ASIO_HAS_DEV_POLL)
  return "/dev/poll";
#else
  return "select";
#endif
}

}  // namespace plexd::platform
