#include "plexd/platform/stream_socket.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

// The loop keeps a readiness set of its own where epoll is Asio's reactor
// (see readiness.cpp): sockets plexd accepts or opens stay out of Asio's.
#if defined(__linux__) && !defined(ASIO_DISABLE_EPOLL)
#define PLEXD_SOCKETS_OUTSIDE_REACTOR 1  // NOLINT(cppcoreguidelines-macro-usage): a build switch, not a value
#include <asio/detail/reactor.hpp>
#endif

namespace plexd::platform {

namespace {
namespace ops = asio::detail::socket_ops;

// Asio keeps two per-socket facts it offers no call to set: that the
// descriptor is non-blocking already (else it issues an ioctl), and that
// plexd holds the only copy of it. It assumes a copy may exist for every
// socket it did not open itself (possible_dup: accepted or assigned), and
// then removes the socket from epoll with a system call before closing it,
// where the close alone would do. The facts live in the implementation
// every Asio socket keeps as a protected member, reached here by naming
// that member through a derived class (never instantiated).
struct socket_state : stream_socket {
  static auto& impl(stream_socket& s) { return (s.*&socket_state::impl_).get_implementation(); }
  static ops::state_type& of(stream_socket& s) { return impl(s).state_; }
};

void mark_sole_owner(stream_socket& socket) {
  socket_state::of(socket) &= static_cast<ops::state_type>(~ops::possible_dup);
}

#ifdef PLEXD_SOCKETS_OUTSIDE_REACTOR
asio::detail::reactor& reactor_of(stream_socket& socket) {
  return asio::use_service<asio::detail::reactor>(socket.get_executor().context());
}

// What assign() records, without its registration with the reactor: the
// descriptor was created non-blocking (SOCK_NONBLOCK) and nothing else
// holds it.
void adopt(stream_socket& socket, const asio::ip::tcp& protocol, int fd, asio::error_code& ec) {
  if (socket.is_open()) {
    ::close(fd);
    ec = asio::error::already_open;
    return;
  }
  auto& impl = socket_state::impl(socket);
  impl.socket_ = fd;
  impl.state_ = ops::stream_oriented | ops::user_set_non_blocking | ops::internal_non_blocking;
  impl.protocol_ = protocol;
  impl.reactor_data_ = nullptr;  // a new socket leaves it unset: assign() would fill it
  ec.clear();
}
#elif defined(__linux__)
// The descriptor was created non-blocking (SOCK_NONBLOCK): say so, and that
// nothing else holds it.
void adopt(stream_socket& socket, const asio::ip::tcp& protocol, int fd, asio::error_code& ec) {
  socket.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
    return;
  }
  mark_sole_owner(socket);
  socket_state::of(socket) |= ops::user_set_non_blocking | ops::internal_non_blocking;
}
#endif

constexpr bool nodelay_inherited =
#ifdef __linux__
    true;  // Linux copies a listening socket's TCP_NODELAY into each socket it accepts
#else
    false;
#endif
}  // namespace

void prepare_accepting(asio::ip::tcp::acceptor& acceptor) {
  asio::error_code ignored;
  if (nodelay_inherited) acceptor.set_option(asio::ip::tcp::no_delay(true), ignored);
}

// Every connection then comes through accept_ready(): accept4() on Linux,
// never registered with Asio's reactor. Asio's own accept would register
// each socket and set it non-blocking, two system calls that the loop's
// readiness set makes unnecessary.
accept_mode preferred_accept() {
  return accept_mode::readiness;
}

void accept_ready(asio::ip::tcp::acceptor& acceptor, stream_socket& socket, asio::ip::tcp::endpoint& peer,
                  asio::error_code& ec) {
#ifdef __linux__
  auto len = static_cast<socklen_t>(peer.capacity());
  int fd = -1;
  do {
    fd = ::accept4(acceptor.native_handle(), peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    ec = asio::error_code(errno, asio::system_category());  // EAGAIN: asio::error::would_block
    return;
  }
  peer.resize(len);
  adopt(socket, peer.protocol(), fd, ec);
#else
  acceptor.accept(socket, peer, ec);
  if (!ec) prepare_accepted(socket, ec);
#endif
}

void prepare_accepted(stream_socket& socket, asio::error_code& ec) {
  mark_sole_owner(socket);
  asio::error_code ignored;  // without TCP_NODELAY the connection still works, only slower
  if (!nodelay_inherited) socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  socket.non_blocking(true, ec);
}

void open_stream(stream_socket& socket, const asio::ip::tcp& protocol, asio::error_code& ec) {
#ifdef __linux__
  const int fd = ::socket(protocol.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    ec = asio::error_code(errno, asio::system_category());
    return;
  }
  adopt(socket, protocol, fd, ec);
#else
  socket.open(protocol, ec);
  if (!ec) socket.non_blocking(true, ec);
#endif
}

#ifdef PLEXD_SOCKETS_OUTSIDE_REACTOR
void join_reactor(stream_socket& socket) {
  auto& impl = socket_state::impl(socket);
  if (impl.socket_ == asio::detail::invalid_socket || impl.reactor_data_ != nullptr) return;
  auto& reactor = reactor_of(socket);
  if (reactor.register_descriptor(impl.socket_, impl.reactor_data_) != 0) {
    // Not registered after all: a wait then fails at once instead of
    // waiting for events that never come.
    reactor.cleanup_descriptor_data(impl.reactor_data_);
  }
}

void leave_reactor(stream_socket& socket) {
  auto& impl = socket_state::impl(socket);
  if (impl.reactor_data_ == nullptr) return;
  auto& reactor = reactor_of(socket);
  reactor.deregister_descriptor(impl.socket_, impl.reactor_data_, false);
  reactor.cleanup_descriptor_data(impl.reactor_data_);
}
#else
void join_reactor(stream_socket& /*socket*/) {}
void leave_reactor(stream_socket& /*socket*/) {}
#endif

}  // namespace plexd::platform
