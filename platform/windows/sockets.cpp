#include "plexd/platform/sockets.hpp"

#include <winsock2.h>

namespace plexd::platform {

// SO_EXCLUSIVEADDRUSE: no other socket may bind the same port, not even
// one with SO_REUSEADDR. (Windows' SO_REUSEADDR would let another process
// steal the port; TIME_WAIT never blocks a bind on Windows anyway.)
void prepare_listen_socket(asio::ip::tcp::acceptor& acceptor, asio::error_code& ec) {
  BOOL on = TRUE;
  if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&on),
                   sizeof on) == SOCKET_ERROR) {
    ec = asio::error_code(::WSAGetLastError(), asio::system_category());
    return;
  }
  ec.clear();
}

// No service manager on Windows hands over sockets.
std::optional<asio::ip::tcp::acceptor::native_handle_type> inherited_listener(std::string_view) {
  return std::nullopt;
}

std::vector<std::string> release_unclaimed_inherited() {
  return {};
}

// Windows has no per-process descriptor limit to raise.
std::string raise_fd_limit() {
  return {};
}

// Asio connects with ConnectEx on Windows, through the completion port
// every other operation on the socket uses.
connect_progress start_connect(asio::ip::tcp::socket::native_handle_type, const asio::ip::tcp::endpoint&,
                               asio::error_code& ec) {
  ec.clear();
  return connect_progress::not_here;
}

asio::error_code connect_error(asio::ip::tcp::socket::native_handle_type handle) {
  const SOCKET socket = handle;
  int err = 0;
  int len = sizeof err;
  if (::getsockopt(socket, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &len) == SOCKET_ERROR) {
    err = ::WSAGetLastError();
  }
  return {err, asio::system_category()};
}

bool is_resource_exhaustion(const asio::error_code& ec) {
  if (ec.category() != asio::system_category()) return false;
  const int v = ec.value();
  return v == WSAEMFILE || v == WSAENOBUFS || v == ERROR_NOT_ENOUGH_MEMORY || v == ERROR_NO_SYSTEM_RESOURCES ||
         v == ERROR_TOO_MANY_OPEN_FILES;
}

}  // namespace plexd::platform
