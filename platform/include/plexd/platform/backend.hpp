// What Asio runs on, for --version and the start-up log (Redis's
// aeGetApiName() habit: say which backend is in use).
#pragma once

#include <string>

namespace plexd::platform {

/// "epoll", "select", "iocp", "kqueue", ...
std::string asio_backend();

}  // namespace plexd::platform
