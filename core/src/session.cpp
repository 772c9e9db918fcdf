#include "session.hpp"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include "listener.hpp"
#include "plexd/core/line_framer.hpp"
#include "worker.hpp"

namespace plexd::core {

namespace {
// Reads per wake-up before yielding to other sockets: one busy client must
// not starve the rest of the loop.
constexpr int max_reads_per_wakeup = 4;
}  // namespace

session::session(worker& w, listener& owner, socket_type socket, peer_identity peer)
    : listener_(&owner),
      socket_(std::move(socket)),
      peer_(std::move(peer.text)),
      source_key_(std::move(peer.source_key)),
      opened_ms_(w.now_ms()) {}

session::~session() = default;

worker& session::this_worker() {
  return worker::current();
}

session_ref::session_ref(session* s) : p_(s) {
  if (p_ != nullptr) ++p_->refs_;
}

session_ref::~session_ref() {
  // The analyzer follows one reference at a time and cannot see that the
  // count only reaches zero with the last of them.
  if (p_ != nullptr && --p_->refs_ == 0) delete p_;  // NOLINT(clang-analyzer-cplusplus.NewDelete)
}

session_ref session::create(worker& w, listener& owner, socket_type socket, peer_identity peer) {
  return session_ref(new session(w, owner, std::move(socket), std::move(peer)));
}

const char* session::reason_text(reason r) {
  switch (r) {
    case reason::peer_closed:
      return "closed by peer";
    case reason::reset:
      return "reset by peer";
    case reason::read_error:
      return "read error";
    case reason::write_error:
      return "write error";
    case reason::wait_failed:
      return "socket wait failed";
    case reason::max_line:
      return "line longer than max_line";
    case reason::max_output:
      return "output queue over max_output";
    case reason::idle:
      return "idle timeout";
    case reason::grace:
      return "closed at the grace deadline";
    case reason::linger:
      return "closed (peer did not close in time)";
    case reason::upstream_reset:
      return "reset (the upstream reset)";
    case reason::upstream_failed:
      return "closed (no upstream answered)";
    case reason::fin_timeout:
      return "closed (half-closed longer than fin_timeout)";
  }
  return "closed";
}

void session::set_carried_endpoints(const asio::ip::tcp::endpoint& source, const asio::ip::tcp::endpoint& destination) {
  carried_ = std::make_unique<std::pair<asio::ip::tcp::endpoint, asio::ip::tcp::endpoint>>(source, destination);
}

asio::ip::tcp::endpoint session::peer_endpoint() const {
  if (carried_) return carried_->first;
  asio::error_code ec;
  return socket_.remote_endpoint(ec);
}

asio::ip::tcp::endpoint session::local_endpoint() const {
  if (carried_) return carried_->second;
  asio::error_code ec;
  return socket_.local_endpoint(ec);
}

const std::string& session::listener_name() const {
  return listener_->name();
}
unsigned session::worker_index() const {
  return this_worker().index();
}

void session::start(first_read mode) {
  this_worker().add(this);
  const bool in_set = this_worker().watch_socket(socket_.native_handle(), *this);
  input_.watch(in_set);
  output_.watch(in_set);
  last_active_ = this_worker().now_tick();
  handler& h = listener_->get_handler();
  line_based_ = h.line_based();
  spdlog::debug("listener {}: {} connected", listener_->name(), peer_);
  // A welcome or banner is a reply like any other: written at once.
  in_batch_ = true;
  starting_ = true;
  h.on_open(*this);
  starting_ = false;
  in_batch_ = false;
  if (!ended()) {
    flush_batch();
    try_flush();
  }
  if (state_ != state::open && state_ != state::lingering) return;
  if (mode == first_read::now || read_at_start_) {
    read_at_start_ = false;
    on_readable({});
  } else {
    wait_readable();
  }
}

std::size_t session::max_output() const {
  return listener_->max_output();
}

void session::pause_reading() {
  if (paused_ || state_ == state::finished) return;
  paused_ = true;
  set_deadline_watch(watch::add);
  // A paused session has no pending wait to own it: it owns itself until
  // it resumes or ends.
  ++refs_;
}

void session::resume_reading() {
  if (!paused_) return;
  const session_ref keep(this);
  end_pause();
  // After the client's FIN (a proxied stream) there is nothing left to read.
  if (state_ != state::open || peer_eof_) return;
  last_active_ = this_worker().now_tick();  // waiting for the room is not idleness
  if (starting_) {
    // Paused and resumed while opening (a proxied client whose upstream
    // connected at once): start() reads as soon as on_open returns, in
    // this loop turn, before the loop reports the input it already has.
    read_at_start_ = true;
    return;
  }
  // Usually called from inside another session's handler: go on later, on
  // the loop, not re-entrantly. The kernel has most likely kept input for
  // this client meanwhile (it wrote while its upstream connected, or while
  // the room drained), so read at once: a wait would report it one loop
  // turn and one system call later.
  reading_ = true;  // nothing else arms a wait until then
  asio::post(this_worker().io(), [self = session_ref(this)] {
    if (self->has_held()) {
      self->reading_ = false;
      self->handle_held();
    } else {
      self->on_readable(asio::error_code());
    }
  });
}

void session::end_pause() {
  // The caller holds a reference, so dropping the pause's own is safe.
  paused_ = false;
  set_deadline_watch(watch::remove);
  --refs_;
}

void session::set_deadline_watch(watch w) {
  // A paused session is visited by the sweep (on_paused_tick) like one
  // with a deadline.
  if (w == watch::add) {
    this_worker().add_deadline();
  } else {
    this_worker().remove_deadline();
  }
}

void session::handle_held() {
  if (state_ != state::open || paused_ || !has_held()) return;
  std::string held = std::move(buf_->held);
  buf_->held.clear();
  if (handle_input(held.data(), held.size()) && state_ == state::open) wait_readable();
}

void session::wait_readable() {
  if (reading_ || (paused_ && state_ == state::open)) return;
  reading_ = true;
  switch (input_.next_wait()) {
    case edge_input::wait_by::asio:
      platform::join_reactor(socket_);
      socket_.async_wait(asio::socket_base::wait_read,
                         [self = session_ref(this)](const asio::error_code& ec) { self->on_readable(ec); });
      break;
    case edge_input::wait_by::next_turn:
      // No new report will come for what the last wake-up left.
      asio::post(this_worker().io(), [self = session_ref(this)] { self->on_readable({}); });
      break;
    case edge_input::wait_by::report:
      ++refs_;  // as a pending wait would
      break;
    case edge_input::wait_by::nothing:
      break;
  }
}

void session::on_ready(platform::input_state input, platform::output_state output) {
  const session_ref keep(this);
  if (input_.became_busy()) platform::leave_reactor(socket_);
  if (output_.reported(output)) {
    --refs_;  // the wait's own; `keep` holds the session
    on_room();
  }
  if (input_.reported(input)) {
    --refs_;
    on_readable({});
  }
}

void session::on_readable(const asio::error_code& ec) {
  reading_ = false;
  if (ended()) return;
  if (ec) {
    fail(reason::wait_failed, tally::error);
    return;
  }
  if (paused_ && state_ == state::open) return;  // resume_reading() re-arms the wait
  input_.reading();
  char* buf = this_worker().read_buffer();
  for (int i = 0; i < max_reads_per_wakeup; ++i) {
    asio::error_code rec;
    const std::size_t n = socket_.read_some(asio::buffer(buf, worker::read_buffer_size), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) {
      input_.drained();
      break;
    }
    if (rec == asio::error::eof) {
      peer_eof_ = true;
      if (state_ == state::lingering) {
        finish();
        return;
      }
      // A proxied stream keeps the other direction flowing after a FIN.
      if (state_ == state::open && listener_->get_handler().on_eof(*this) == handler::eof_action::keep_open) return;
      close_after_flush();  // the client is done: send what is queued, then close
      return;
    }
    if (rec) {
      const bool reset = rec == asio::error::connection_reset;
      fail(reset ? reason::reset : reason::read_error, reset ? tally::normal : tally::error);
      return;
    }
    bytes_in_ += n;
    listener_->stats().bytes_in.fetch_add(n, std::memory_order_relaxed);
    last_active_ = this_worker().now_tick();
    // closing/lingering: the input is discarded.
    // The analyzer assumes asio::post runs fail()'s teardown at once and that
    // no session_ref is held; both are false (`self` holds this session).
    if (state_ == state::open && !handle_input(buf, n)) return;  // NOLINT(clang-analyzer-cplusplus.NewDelete)
    if (ended()) return;
    if (n < worker::read_buffer_size && input_.short_read_drained()) break;
  }
  if (!ended() && state_ != state::closing) wait_readable();
}

bool session::handle_input(const char* data, std::size_t size) {
  handler& h = listener_->get_handler();
  in_batch_ = true;
  bool go_on = true;
  if (line_based_) {
    go_on = frame_input(h, std::string_view(data, size));
  } else {
    h.on_data(*this, std::string_view(data, size));
  }
  // Always: what the handler gathered from the lines it was given must go
  // out now, even if this read ends the session or pauses it.
  h.on_batch_end(*this);
  in_batch_ = false;
  if (state_ == state::open || state_ == state::closing) {
    flush_batch();
    try_flush();
  } else {
    this_worker().batch_output().clear();
  }
  release_buffers_if_empty();
  return go_on && !ended() && !(paused_ && state_ == state::open);
}

bool session::frame_input(handler& h, std::string_view data) {
  // Most reads hold whole lines: frame them with a scratch string and
  // keep a buffer only when a line continues in the next read.
  std::string scratch;
  std::string& partial = buf_ ? buf_->in : scratch;
  const auto r = frame_lines(partial, data, listener_->max_line(), [&](std::string_view line) {
    if (state_ == state::open) h.on_line(*this, line);
    return state_ == state::open && !paused_;
  });
  if (!scratch.empty()) buf().in = std::move(scratch);
  if (r.status == frame_status::too_long) {
    disconnect_for(reason::max_line);
    return false;
  }
  if (r.status == frame_status::stopped && state_ == state::open) buf().held.assign(data.substr(r.consumed));
  return r.status == frame_status::done;
}

}  // namespace plexd::core
