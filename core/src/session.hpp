// One client connection. No buffer is held while idle: the session waits
// for readability, then reads into its thread's shared buffer until a
// short read; replies go straight to the socket and only what would block
// is queued (measured against a hand-written epoll server, this shape
// keeps throughput and costs about 600 bytes per idle connection).
// Output for a client other than the one being read (a chat line) is
// gathered and written once at the end of the event-loop turn.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <asio/ip/tcp.hpp>

#include "plexd/core/handler.hpp"
#include "plexd/platform/stream_socket.hpp"
#include "ready_target.hpp"
#include "session_ref.hpp"

namespace plexd::core {

class listener;
class worker;

/// Who a session serves: the peer as shown, and the key its listener's
/// max_per_source admitted it under (released with the same key).
struct peer_identity {
  std::string text;
  std::string source_key;
};

class session final : public connection, private ready_target {
 public:
  using socket_type = platform::stream_socket;

  /// `owner` outlives the session: a listener is dropped only once its
  /// active count is back to zero (see server::reap_drained).
  session(worker& w, listener& owner, socket_type socket, peer_identity peer);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// Creates a session owned by the references to it (see session_ref).
  static session_ref create(worker& w, listener& owner, socket_type socket, peer_identity peer);
  /// `now`: read at once instead of waiting, for input that may already sit
  /// in the socket (after a PROXY header), which an edge-triggered wait
  /// would not report.
  enum class first_read : std::uint8_t { when_readable, now };
  void start(first_read mode = first_read::when_readable);
  /// The addresses a PROXY protocol header carried: they stand for the
  /// socket's own in peer_endpoint() and local_endpoint().
  void set_carried_endpoints(const asio::ip::tcp::endpoint& source, const asio::ip::tcp::endpoint& destination);

  // connection
  void send(std::string_view data) override;
  void send_now(std::string_view data) override;
  void close_after_flush() override;
  const std::string& peer() const override { return peer_; }
  asio::ip::tcp::endpoint peer_endpoint() const override;
  asio::ip::tcp::endpoint local_endpoint() const override;
  const std::string& listener_name() const override;
  unsigned worker_index() const override;
  std::size_t queued() const override { return buf_ ? buf_->out.size() - buf_->out_off : 0; }
  void pause_reading() override;
  void resume_reading() override;
  // Second-stream support (forward).
  void attach(std::unique_ptr<connection_state> ext) override { state_ext_ = std::move(ext); }
  connection_state* attached() const override { return state_ext_.get(); }
  void retain() override { ++refs_; }
  void release() override;
  void shutdown_send() override;
  void close_now(close_kind how) override;
  void close_within(std::chrono::milliseconds after) override;
  std::size_t max_output() const override;

  /// The worker's end-of-turn flush: writes what send() gathered.
  void flush_deferred();

  /// Called by the worker's sweep: idle timeout and deadlines.
  void on_tick(std::uint32_t now);
  /// Stop: goodbye (handler), no more reading, close once flushed; force
  /// close at `deadline`.
  void begin_drain(std::uint32_t deadline);
  /// Listener removed by a reload: keep serving until `deadline`, then drain.
  void drain_at(std::uint32_t deadline);
  const listener* owner() const { return listener_; }

  friend class session_ref;
  std::uint32_t refs_ = 0;

  // The worker's intrusive list (no allocation per connection).
  session* prev_ = nullptr;
  session* next_ = nullptr;

  enum class parking : std::uint8_t { kept, released };
  /// The worker's tick: parked buffers stay while the session moved bytes
  /// within the last second; after that they are freed if still empty.
  parking review_parked_buffers();

 private:
  /// open: reading and writing; closing: flushing before a FIN; lingering:
  /// FIN sent, waiting for the peer's; failing: ended, teardown posted;
  /// finished: torn down, the handler told.
  enum class state : std::uint8_t { open, closing, lingering, failing, finished };
  bool ended() const { return state_ == state::failing || state_ == state::finished; }
  /// Why a session ended, for the close log (a byte, not a pointer).
  enum class reason : std::uint8_t {
    peer_closed,
    reset,
    read_error,
    write_error,
    wait_failed,
    max_line,
    max_output,
    idle,
    grace,
    linger,
    upstream_reset,
    upstream_failed,
    fin_timeout
  };
  static const char* reason_text(reason r);

  void wait_readable();
  void on_readable(const asio::error_code& ec);
  void on_ready(platform::input_state input, platform::output_state output) override;
  void on_room();
  void retain_target() override { ++refs_; }
  void release_target() override { release(); }
  /// Frames and hands over input; false once reading must stop (paused
  /// mid-read, or the session ended). What a pause leaves is kept in `held`.
  bool handle_input(const char* data, std::size_t size);
  bool frame_input(handler& h, std::string_view data);
  void handle_held();
  void reply(std::string_view data);
  /// Writes what the socket takes; `data` keeps the rest. False when the
  /// write ended the session.
  bool offer(std::string_view& data);
  void defer(std::string_view data);
  /// A queue over max_output: offer it to the socket once more, then
  /// disconnect if the socket still refuses too much. True if it survived.
  bool check_output_limit();
  void disconnect_for(reason why);
  enum class watch : std::uint8_t { add, remove };
  static void set_deadline_watch(watch w);
  void end_pause();
  void wait_writable();
  void try_flush();
  void flush_batch();
  bool write_some(std::string_view data, std::size_t& written);
  void after_flush();
  bool idle_expired(std::uint32_t now) const;
  void set_deadline(std::uint32_t tick);
  /// Ends the session later, on the loop: safe to call from anywhere,
  /// including another session's fan-out.
  /// Whether an ending counts in the listener's `errors`.
  enum class tally : std::uint8_t { normal, error };
  void fail(reason why, tally counted);
  void finish();

  /// Allocated only while a line spans reads or output is queued, so an
  /// idle connection carries one pointer instead of two strings.
  struct buffers {
    std::string in;    // an unterminated line (line framing only)
    std::string held;  // input read but not handled yet (reading paused mid-read)
    // Output the socket did not take yet. Compacted when the part already
    // written dominates, so a queue that never empties stays bounded.
    std::string out;  // output the socket did not take yet
    std::size_t out_off = 0;
  };
  buffers& buf();
  void release_buffers_if_empty();
  /// Keeps empty buffers while the session is busy (see try_flush).
  void park_buffers();
  /// How long drained buffers are kept for a session that moves no bytes.
  static constexpr std::uint32_t buffer_keep_ticks = 10;
  /// What is kept of a drained output queue's allocation while parked.
  static constexpr std::size_t max_kept_capacity = 16384;

  void append_output(std::string_view data);
  bool has_held() const { return buf_ && !buf_->held.empty(); }

  static worker& this_worker();  // see worker::current()

  listener* listener_;
  socket_type socket_;
  std::string peer_;
  std::string source_key_;  // what the listener's max_per_source admitted this session under
  std::unique_ptr<buffers> buf_;
  std::unique_ptr<connection_state> state_ext_;  // a handler's per-connection state, if any
  // Only for connections that arrived with a PROXY header (one pointer otherwise).
  std::unique_ptr<std::pair<asio::ip::tcp::endpoint, asio::ip::tcp::endpoint>> carried_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  std::uint32_t opened_ms_ = 0;  // worker::now_ms() at start; 4 bytes, wraps after 49 days
  std::uint32_t last_active_ = 0;
  std::uint32_t deadline_ = 0;  // 0 = none
  state state_ = state::open;
  reason close_reason_ = reason::peer_closed;
  // Bit-fields: these flags sit in every idle connection.
  bool reading_ : 1 = false;
  bool writing_ : 1 = false;
  bool in_batch_ : 1 = false;
  bool peer_eof_ : 1 = false;
  bool drain_at_deadline_ : 1 = false;
  bool close_is_error_ : 1 = false;  // fail(..., tally::error)
  bool paused_ : 1 = false;
  bool fin_pending_ : 1 = false;  // shutdown_send() waits for the queue to drain
  bool deadline_is_fin_ : 1 = false;
  bool line_based_ : 1 = false;      // fixed when the connection opens
  bool flush_deferred_ : 1 = false;  // in the worker's end-of-turn list
  bool buffers_parked_ : 1 = false;  // in the worker's list of buffers to free at the tick
  bool starting_ : 1 = false;        // inside start(): the handler's on_open runs
  bool read_at_start_ : 1 = false;   // resumed during on_open: start() reads at once
  edge_input input_;                 // how to wait for input (the loop's set, or Asio)
  edge_output output_;               // how to wait for room to send
};

}  // namespace plexd::core
