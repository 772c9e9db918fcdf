// Byte streams for the control endpoint: "unix:PATH" (POSIX), "pipe:NAME"
// (Windows named pipe), "tcp:HOST:PORT" (loopback only). The control
// protocol in core/ only sees control_stream, so it is the same everywhere.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <asio/buffer.hpp>
#include <asio/error_code.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "plexd/platform/result.hpp"

namespace plexd::platform {

/// One connected control client (server side) or server (client side).
class control_stream {
 public:
  using io_handler = std::function<void(const asio::error_code&, std::size_t)>;
  virtual ~control_stream() = default;
  /// Reads some bytes; the buffer must stay valid until the handler runs.
  virtual void async_read_some(asio::mutable_buffer buffer, io_handler handler) = 0;
  /// Writes all bytes; the buffer must stay valid until the handler runs.
  virtual void async_write(asio::const_buffer buffer, io_handler handler) = 0;
  virtual void close() = 0;
};

/// The listening side of the control endpoint.
class control_acceptor {
 public:
  using accept_handler = std::function<void(std::shared_ptr<control_stream>)>;
  virtual ~control_acceptor() = default;
  /// Starts accepting; `on_accept` runs on the io_context for each client,
  /// never after close(). The acceptor may be destroyed right after close()
  /// even while completions are queued.
  virtual void start(accept_handler on_accept) = 0;
  /// Stops accepting and removes what the endpoint left behind (socket file).
  virtual void close() = 0;
  /// The endpoint as clients should name it, e.g. "tcp:127.0.0.1:40123".
  virtual std::string describe() const = 0;
};

using acceptor_result = result<std::unique_ptr<control_acceptor>>;
using stream_result = result<std::shared_ptr<control_stream>>;

/// Opens `endpoint` for listening; the error names the endpoint.
acceptor_result open_control_endpoint(asio::io_context& io, const std::string& endpoint);

/// Connects to `endpoint` (blocking connect, then async use); the error
/// names the endpoint.
stream_result connect_control_endpoint(asio::io_context& io, const std::string& endpoint);

/// The tcp: transport, the same on every system; `hostport` is the
/// endpoint without its "tcp:".
acceptor_result open_tcp_control(asio::io_context& io, const std::string& hostport);
stream_result connect_tcp_control(asio::io_context& io, const std::string& hostport);

/// A TCP endpoint on any address for other stream services (metrics), with
/// the accept loop every endpoint shares: back-off when descriptors run
/// out, and no completion touching a closed acceptor. `what` names it in
/// the log. The error is the system's text.
acceptor_result open_tcp_acceptor(asio::io_context& io, const asio::ip::tcp::endpoint& ep, const std::string& what);

}  // namespace plexd::platform
