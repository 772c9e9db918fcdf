// Opening and accepting the loop's TCP connections with as few system
// calls as the system allows. Each connection a listener accepts or a
// forward opens costs a handful of calls on top of the TCP handshake, and
// at thousands of short connections a second the extras show: Asio's
// accept() needs an ioctl (non-blocking) and a setsockopt (TCP_NODELAY)
// after it, and Asio unregisters every socket it did not open itself from
// epoll with a call of its own before closing it, in case another process
// shares the descriptor (never so for one plexd accepted).
#pragma once

#include <cstdint>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

namespace plexd::platform {

/// A TCP stream socket bound to its io_context's concrete executor: 40 bytes
/// instead of 88 with any_io_executor, in every idle connection.
using stream_socket = asio::basic_stream_socket<asio::ip::tcp, asio::io_context::executor_type>;

/// Once per listening socket: what the system passes on from a listening
/// socket to the connections it accepts is set there (Linux: TCP_NODELAY).
/// Every connection gets TCP_NODELAY: without it a small reply waits for
/// the peer's delayed ACK (40 ms).
void prepare_accepting(asio::ip::tcp::acceptor& acceptor);

/// How a listener best learns of new connections.
enum class accept_mode : std::uint8_t {
  readiness,  // wait until the listening socket is readable, then accept_ready() until would_block
  completion  // Asio's async_accept: the system accepts and reports the socket (Windows)
};
accept_mode preferred_accept();

/// Takes one waiting connection without blocking. `socket` (created on the
/// loop that will serve it) comes back connected, non-blocking and with
/// TCP_NODELAY, `peer` filled in; ec is would_block when none waits.
void accept_ready(asio::ip::tcp::acceptor& acceptor, stream_socket& socket, asio::ip::tcp::endpoint& peer,
                  asio::error_code& ec);

/// Readies a connection Asio's async_accept produced the same way:
/// non-blocking, TCP_NODELAY, known to be plexd's alone.
void prepare_accepted(stream_socket& socket, asio::error_code& ec);

/// Opens `socket` for an outgoing connection, already non-blocking.
void open_stream(stream_socket& socket, const asio::ip::tcp& protocol, asio::error_code& ec);

// Where the loop keeps a readiness set of its own (Linux), a socket that
// accept_ready() or open_stream() gives back is not in Asio's reactor: the
// set hears it instead, and being in both would cost a system call per
// socket and a second kernel wake-up per packet. Asio still owns it (reads,
// writes, closes). Elsewhere every socket is in the reactor and these do
// nothing.

/// Puts `socket` in its loop's reactor, as Asio itself would have: call it
/// before any Asio wait on a socket from accept_ready() or open_stream().
/// If that fails, the wait completes with an error.
void join_reactor(stream_socket& socket);
/// Takes `socket` out of its loop's reactor again (one that joined it for a
/// wait: a connect that did not finish at once, a PROXY header), once the
/// readiness set hears it. An Asio wait on it would fail afterwards, until
/// join_reactor().
void leave_reactor(stream_socket& socket);

}  // namespace plexd::platform
