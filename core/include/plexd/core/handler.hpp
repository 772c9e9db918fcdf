// The handler interface: what a listener does with its clients. Handlers
// never touch sockets; a session frames the bytes and calls these hooks
// (the request_handler/connection split of Asio's http/server example).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/ip/tcp.hpp>

#include "plexd/config/config.hpp"
#include "plexd/core/metrics.hpp"
#include "plexd/core/room_bus.hpp"

namespace plexd::core {

/// State a handler keeps per connection (the forward handler's upstream
/// side); owned by the connection and destroyed with it.
class connection_state {
 public:
  connection_state() = default;
  virtual ~connection_state() = default;
  connection_state(const connection_state&) = delete;
  connection_state& operator=(const connection_state&) = delete;
  connection_state(connection_state&&) = delete;
  connection_state& operator=(connection_state&&) = delete;
};

/// How close_now() ends a connection.
enum class close_kind : std::uint8_t {
  reset,  // SO_LINGER 0: the client sees a reset (its peer reset first)
  error   // a plain close, counted in the listener's errors
};

/// What a handler sees of one client connection.
class connection {
 public:
  /// Queues bytes for the client. A reply to the client's own input is
  /// written when that input has been handled; output for anyone else (a
  /// chat line) is gathered and written once when the event-loop turn ends.
  /// Only bytes the socket refused count against max_output; a client whose
  /// real queue would exceed it is disconnected.
  virtual void send(std::string_view data) = 0;
  /// Like send(), but offered to the socket at once: for a client fed by
  /// one stream of its own (a proxied upstream), where gathering until the
  /// end of the turn could merge nothing and would only cost a loop pass.
  virtual void send_now(std::string_view data) = 0;
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
  /// Pausing inside on_line stops the session after that line: the rest
  /// of the read is kept (not dropped) and handled after resume_reading().
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  /// The listener's max_output (a handler's back-pressure threshold).
  virtual std::size_t max_output() const = 0;

  // For handlers that join the client to a second stream (forward).
  /// Attaches per-connection state; the connection owns it from then on.
  virtual void attach(std::unique_ptr<connection_state> state) = 0;
  virtual connection_state* attached() const = 0;
  /// Keeps the connection object alive while an operation outside it is
  /// pending (every retain() is matched by one release()).
  virtual void retain() = 0;
  virtual void release() = 0;
  /// Sends a FIN once queued output is out; the client may keep sending.
  virtual void shutdown_send() = 0;
  /// Ends the connection at once (see close_kind).
  virtual void close_now(close_kind how) = 0;
  /// Ends the connection `after` from now unless it ends earlier.
  virtual void close_within(std::chrono::milliseconds after) = 0;

 protected:
  ~connection() = default;
};

/// Runs a function on another event-loop thread (chat fan-out across threads).
struct handler_env {
  unsigned worker_count = 1;
  /// The main loop, for a handler's background work (health checks).
  asio::io_context* main_io = nullptr;
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
  /// of passing raw chunks (on_data). Asked once per connection, when it opens.
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
  /// Called about every 100 ms while reading from this client is paused,
  /// so a handler waiting for something that may never come can give up.
  virtual void on_paused_tick(connection&) {}
  /// The daemon is stopping or the listener was removed: say goodbye.
  virtual void on_stop(connection&) {}
  /// Reload: new options of the same handler kind, applied from now on.
  virtual void update(const config::handler_options& options) = 0;

  /// What to do when the client half-closes (EOF).
  enum class eof_action : std::uint8_t { close, keep_open };
  virtual eof_action on_eof(connection&) { return eof_action::close; }
  /// How a stop treats this handler's connections: `goodbye` calls
  /// on_stop() and closes once flushed; `finish` lets them run to their
  /// end (proxied streams) until the grace deadline.
  enum class drain_mode : std::uint8_t { goodbye, finish };
  virtual drain_mode on_drain() const { return drain_mode::goodbye; }
  /// The listener stops for good: end background work (health checks).
  virtual void retire() {}
  /// Per-upstream counters for status (forward only).
  virtual std::vector<upstream_status> upstreams() const { return {}; }
};

/// Builds the handler for a listener from its options (the registry).
std::shared_ptr<handler> make_handler(const config::listener_config& cfg, const handler_env& env);

}  // namespace plexd::core
