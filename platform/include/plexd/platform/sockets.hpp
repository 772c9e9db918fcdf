// Socket details that differ between systems and that Asio leaves to us.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/ip/tcp.hpp>

namespace plexd::platform {

/// Options for a listening socket before bind(): SO_REUSEADDR on POSIX (so
/// a restart is not blocked by TIME_WAIT), SO_EXCLUSIVEADDRUSE on Windows
/// (where SO_REUSEADDR would let another process steal the port).
void prepare_listen_socket(asio::ip::tcp::acceptor& acceptor, asio::error_code& ec);

/// A listening socket handed over by the service manager (systemd socket
/// activation) under `name`, or nothing. Each socket is handed out once.
std::optional<asio::ip::tcp::acceptor::native_handle_type> inherited_listener(std::string_view name);

/// Names of inherited sockets nobody took (so they can be logged), then
/// closes them.
std::vector<std::string> release_unclaimed_inherited();

/// Raises the open-file limit to the hard limit. Returns a line to log, or "".
std::string raise_fd_limit();

/// True when `ec` is a transient resource shortage on accept (EMFILE,
/// ENFILE, ENOBUFS, ENOMEM, WSAEMFILE...) after which accept should back off.
bool is_resource_exhaustion(const asio::error_code& ec);

/// Where a connect begun by start_connect() stands.
enum class connect_progress : std::uint8_t {
  done,     // connected already: a loopback handshake completes inside connect()
  pending,  // wait until the socket is writable, then ask connect_error()
  failed,   // refused at once; the error says why
  not_here  // this system connects only through Asio's async_connect
};

/// Connects an open, non-blocking TCP socket without waiting. Asio's
/// async_connect always waits for writability (and then polls again),
/// even when connect() already finished the handshake: that wait costs a
/// loop turn and three system calls per connection.
connect_progress start_connect(asio::ip::tcp::socket::native_handle_type socket, const asio::ip::tcp::endpoint& to,
                               asio::error_code& ec);

/// The outcome of a pending connect once its socket is writable (SO_ERROR).
asio::error_code connect_error(asio::ip::tcp::socket::native_handle_type socket);

}  // namespace plexd::platform
