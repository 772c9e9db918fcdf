#include "plexd/platform/stream_socket.hpp"

// Windows passes no socket option on from a listening socket, and Asio's
// completion-port sockets have no readiness registration to undo: the
// public calls are all there is.
namespace plexd::platform {

void prepare_accepting(asio::ip::tcp::acceptor&) {}

// A completion port accepts in the background (AcceptEx); a readiness wait
// on a listening socket would take Asio's select() helper thread instead.
accept_mode preferred_accept() {
  return accept_mode::completion;
}

void accept_ready(asio::ip::tcp::acceptor& acceptor, stream_socket& socket, asio::ip::tcp::endpoint& peer,
                  asio::error_code& ec) {
  acceptor.accept(socket, peer, ec);
  if (!ec) prepare_accepted(socket, ec);
}

void prepare_accepted(stream_socket& socket, asio::error_code& ec) {
  asio::error_code ignored;  // without TCP_NODELAY the connection still works, only slower
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  socket.non_blocking(true, ec);
}

void open_stream(stream_socket& socket, const asio::ip::tcp& protocol, asio::error_code& ec) {
  socket.open(protocol, ec);
  if (!ec) socket.non_blocking(true, ec);
}

// Completion ports need no registration: every socket is ready for a wait.
void join_reactor(stream_socket& /*socket*/) {}
void leave_reactor(stream_socket& /*socket*/) {}

}  // namespace plexd::platform
