// How a session ends: half-close and linger, deadlines (idle, drain, grace,
// FIN), and the one teardown every ending goes through.
#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include "listener.hpp"
#include "session.hpp"
#include "worker.hpp"

namespace plexd::core {

namespace {
// How long a closing session waits for the peer's EOF after shutdown(send),
// so that unread input does not turn our last bytes into an RST.
constexpr std::uint32_t linger_ticks = 10;
}  // namespace

void session::close_after_flush() {
  if (state_ != state::open) return;
  state_ = state::closing;
  if (!in_batch_ && !writing_ && queued() == 0) after_flush();
}

void session::after_flush() {
  if (fin_pending_ && state_ == state::open) {
    fin_pending_ = false;
    asio::error_code ec;
    socket_.shutdown(asio::socket_base::shutdown_send, ec);
  }
  if (state_ != state::closing) return;
  if (peer_eof_) {
    finish();
    return;
  }
  // Half-close, then read (and drop) until the peer closes too.
  asio::error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_send, ec);
  state_ = state::lingering;
  set_deadline(this_worker().now_tick() + linger_ticks);
  wait_readable();
}

void session::set_deadline(std::uint32_t tick) {
  if (tick == 0) tick = 1;
  if (deadline_ != 0 && deadline_ <= tick) return;  // keep the earlier one
  if (deadline_ == 0) this_worker().add_deadline();
  deadline_ = tick;
}

bool session::idle_expired(std::uint32_t now) const {
  // Closing counts too: a peer that half-closed and stopped reading would
  // otherwise hold its queue forever.
  const auto idle = listener_->idle_ticks();
  return idle != 0 && (state_ == state::open || state_ == state::closing) && now - last_active_ >= idle;
}

void session::on_tick(std::uint32_t now) {
  if (state_ == state::finished) return;
  if (deadline_ != 0 && now >= deadline_) {
    if (drain_at_deadline_ && state_ == state::open) {
      drain_at_deadline_ = false;
      this_worker().remove_deadline();
      deadline_ = 0;
      begin_drain(now + linger_ticks);
      return;
    }
    close_reason_ = state_ == state::lingering ? reason::linger
                    : deadline_is_fin_         ? reason::fin_timeout
                                               : reason::grace;
    finish();
    return;
  }
  if (idle_expired(now)) {
    disconnect_for(reason::idle);
    return;
  }
  if (paused_ && state_ == state::open) listener_->get_handler().on_paused_tick(*this);
}

void session::begin_drain(std::uint32_t deadline) {
  if (state_ == state::finished) return;
  if (state_ == state::open && listener_->get_handler().on_drain() == handler::drain_mode::goodbye) {
    listener_->get_handler().on_stop(*this);
    close_after_flush();
  }
  set_deadline(deadline);
}

void session::drain_at(std::uint32_t deadline) {
  if (ended()) return;
  // Open: keep serving until the deadline, then say goodbye and drain.
  // Already closing or lingering: the deadline simply ends it.
  if (state_ == state::open) drain_at_deadline_ = true;
  set_deadline(deadline);
}

// Second-stream support: the forward handler's upstream side drives these.
void session::release() {
  if (--refs_ == 0) delete this;
}

void session::shutdown_send() {
  if (state_ != state::open) return;
  fin_pending_ = true;
  if (!in_batch_ && !writing_ && queued() == 0) after_flush();
}

void session::close_now(close_kind how) {
  if (how == close_kind::reset) {
    asio::error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    fail(reason::upstream_reset, tally::normal);
  } else {
    fail(reason::upstream_failed, tally::error);
  }
}

void session::close_within(std::chrono::milliseconds after) {
  if (state_ == state::finished) return;
  const auto t = worker::tick_period.count();
  const auto ticks = static_cast<std::uint32_t>((after.count() + t - 1) / t);
  if (deadline_ == 0 || this_worker().now_tick() + ticks < deadline_) deadline_is_fin_ = true;
  set_deadline(this_worker().now_tick() + ticks);
}

void session::fail(reason why, tally counted) {
  if (ended()) return;
  state_ = state::failing;
  close_reason_ = why;
  close_is_error_ = counted == tally::error;
  asio::post(this_worker().io(), [self = session_ref(this)] { self->finish(); });
}

void session::finish() {
  if (state_ == state::finished) return;
  state_ = state::finished;
  asio::error_code ignored;
  socket_.close(ignored);  // cancels the pending waits; they hold `self`
  if (close_is_error_) listener_->stats().errors.fetch_add(1, std::memory_order_relaxed);
  const session_ref keep(this);
  if (paused_) end_pause();
  if (input_.stop()) --refs_;  // the report wait's own; `keep` holds the session
  if (output_.stop()) --refs_;
  listener_->get_handler().on_close(*this);
  if (deadline_ != 0) this_worker().remove_deadline();
  this_worker().remove(this);
  const std::uint32_t ms = this_worker().now_ms() - opened_ms_;
  spdlog::debug("listener {}: {} {}: {} bytes in, {} bytes out, {} ms", listener_->name(), peer_,
                reason_text(close_reason_), bytes_in_, bytes_out_, ms);
  listener_->session_closed(source_key_);
}

}  // namespace plexd::core
