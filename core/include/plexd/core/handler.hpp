// The handler interface: what a listener does with its clients. Handlers
// never touch sockets; a session frames the bytes and calls these hooks
// (the request_handler/connection split of Asio's http/server example).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <asio/ip/tcp.hpp>

#include "plexd/config/config.hpp"
#include "plexd/core/room_bus.hpp"

namespace plexd::core {

/// What a handler sees of one client connection.
class connection {
 public:
  /// Queues bytes for the client; sent as soon as the socket takes them.
  /// A client whose queue would exceed max_output is disconnected.
  virtual void send(std::string_view data) = 0;
  /// Closes the connection once everything queued has been sent.
  virtual void close_after_flush() = 0;
  /// The client's "ADDRESS:PORT".
  virtual const std::string& peer() const = 0;
  /// The client's address and the local address it connected to (both as
  /// carried by a PROXY protocol header when the listener accepts one).
  virtual asio::ip::tcp::endpoint peer_endpoint() const = 0;
  virtual asio::ip::tcp::endpoint local_endpoint() const = 0;
  /// The name of the listener that accepted it.
  virtual const std::string& listener_name() const = 0;
  /// The event-loop thread this connection lives on (0-based).
  virtual unsigned worker_index() const = 0;
  /// Bytes accepted by send() that the socket has not taken yet.
  virtual std::size_t queued() const = 0;
  /// Back-pressure: stop reading from this client until resume_reading().
  /// Input already read is still handled; the kernel buffers the rest and
  /// TCP slows the client down.
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;

 protected:
  ~connection() = default;
};

/// Runs a function on another event-loop thread (chat fan-out across threads).
struct handler_env {
  unsigned worker_count = 1;
  std::function<void(unsigned worker, std::function<void()>)> post;
  /// Rooms shared with other instances; null without a backplane.
  std::shared_ptr<room_bus> rooms;
};

/// One handler object per listener, shared by all its connections and
/// all event-loop threads; per-connection state lives in the session.
class handler {
 public:
  virtual ~handler() = default;
  /// True if the session should split input into lines (on_line) instead
  /// of passing raw chunks (on_data).
  virtual bool line_based() const = 0;
  virtual void on_open(connection&) {}
  virtual void on_data(connection&, std::string_view) {}
  /// A complete line without its "\n" (or "\r\n").
  virtual void on_line(connection&, std::string_view) {}
  /// All input from one read has been handled (a place to gather output).
  virtual void on_batch_end(connection&) {}
  virtual void on_close(connection&) {}
  /// Output that send() had to queue has now all been taken by the socket
  /// (the moment to resume whatever was paused for this client).
  virtual void on_drained(connection&) {}
  /// The daemon is stopping or the listener was removed: say goodbye.
  virtual void on_stop(connection&) {}
  /// Reload: new options of the same handler kind, applied from now on.
  virtual void update(const config::handler_options& options) = 0;
};

/// Builds the handler for a listener from its options (the registry).
std::shared_ptr<handler> make_handler(const config::listener_config& cfg, const handler_env& env);

}  // namespace plexd::core
