#include "plexd/platform/console.hpp"

#include <unistd.h>

#include <cerrno>

namespace plexd::platform {

long read_stdin(char* buffer, std::size_t size) {
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buffer, size);
    if (n < 0 && errno == EINTR) continue;
    return static_cast<long>(n);
  }
}

}  // namespace plexd::platform
