// A session's output: replies gathered per read, lines for other clients
// gathered per event-loop turn, and the max_output rule, which counts only
// what the socket refused.
#include <spdlog/spdlog.h>
#include <asio/post.hpp>

#include "listener.hpp"
#include "session.hpp"
#include "worker.hpp"

namespace plexd::core {

namespace {
// Replies at least this large are written directly instead of gathered.
constexpr std::size_t gather_limit = 4096;
}  // namespace

session::buffers& session::buf() {
  if (!buf_) buf_ = std::make_unique<buffers>();
  return *buf_;
}

void session::release_buffers_if_empty() {
  if (buf_ && buf_->in.empty() && buf_->held.empty() && buf_->out_off >= buf_->out.size()) buf_.reset();
}

void session::park_buffers() {
  if (buffers_parked_ || !buf_) return;
  buffers_parked_ = true;
  this_worker().park_buffers(this);
}

session::parking session::review_parked_buffers() {
  if (!ended() && buf_ && this_worker().now_tick() - last_active_ < buffer_keep_ticks) return parking::kept;
  buffers_parked_ = false;
  release_buffers_if_empty();
  return parking::released;
}

void session::append_output(std::string_view data) {
  auto& b = buf();
  if (b.out_off > 0 && b.out_off >= b.out.size() / 2) {
    b.out.erase(0, b.out_off);
    b.out_off = 0;
  }
  b.out.append(data);
}

void session::send(std::string_view data) {
  if (state_ != state::open || data.empty()) return;
  if (in_batch_) {
    reply(data);
  } else {
    defer(data);
  }
}

bool session::offer(std::string_view& data) {
  std::size_t written = 0;
  if (!write_some(data, written)) return false;
  data.remove_prefix(written);
  return true;
}

void session::send_now(std::string_view data) {
  if (state_ != state::open || data.empty()) return;
  if (in_batch_ || queued() > 0 || writing_) {
    send(data);  // behind what is already gathered or queued, in order
    return;
  }
  if (!offer(data) || data.empty()) return;
  // The socket refused the rest just now: queue it and wait, no retry.
  append_output(data);
  if (check_output_limit() && !writing_ && queued() > 0) wait_writable();
}

void session::reply(std::string_view data) {
  // The client's own input is being handled: small replies are gathered in
  // the thread's buffer (no allocation, one write per read); a large one
  // with nothing gathered before it goes straight out, since copying it
  // would cost more than the call it saves.
  std::string& batch = this_worker().batch_output();
  if (queued() + batch.size() + data.size() > listener_->max_output()) {
    flush_batch();  // offer what is gathered first: only refused bytes count
    if (ended()) return;
  }
  if (queued() == 0 && !writing_) {
    if (data.size() < gather_limit || !batch.empty()) {
      batch.append(data);
      return;
    }
    // The common case: the socket takes it all and nothing is copied.
    if (!offer(data) || data.empty()) return;
  }
  append_output(data);
  check_output_limit();
}

void session::defer(std::string_view data) {
  // Output for a client that is not being read from right now (a chat
  // line): gather it until the end of the loop turn, then one write.
  append_output(data);
  if (!check_output_limit()) return;
  if (!writing_ && !flush_deferred_ && queued() > 0) {
    flush_deferred_ = true;
    this_worker().defer_flush(this);
  }
}

bool session::check_output_limit() {
  if (queued() <= listener_->max_output()) return true;
  if (!writing_) {
    auto& b = *buf_;
    std::size_t written = 0;
    if (!write_some(std::string_view(b.out).substr(b.out_off), written)) return false;
    b.out_off += written;
    if (queued() <= listener_->max_output()) {
      if (queued() > 0) wait_writable();
      return true;
    }
  }
  disconnect_for(reason::max_output);
  return false;
}

void session::flush_deferred() {
  flush_deferred_ = false;
  if (ended()) return;
  try_flush();
}

void session::flush_batch() {
  std::string& batch = this_worker().batch_output();
  if (batch.empty()) return;
  std::size_t written = 0;
  if (!ended() && write_some(batch, written) && written < batch.size()) {
    append_output(std::string_view(batch).substr(written));  // only what the socket would not take
  }
  batch.clear();
  if (batch.capacity() > 4 * worker::read_buffer_size) std::string().swap(batch);
  if (!ended()) check_output_limit();
}

bool session::write_some(std::string_view data, std::size_t& written) {
  asio::error_code ec;
  written = socket_.write_some(asio::buffer(data.data(), data.size()), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    written = 0;
    output_.refused();
    return true;
  }
  if (ec) {
    const bool reset = ec == asio::error::broken_pipe || ec == asio::error::connection_reset;
    fail(reset ? reason::reset : reason::write_error, tally::normal);
    return false;
  }
  if (written < data.size()) output_.refused();
  bytes_out_ += written;
  listener_->stats().bytes_out.fetch_add(written, std::memory_order_relaxed);
  last_active_ = this_worker().now_tick();
  return true;
}

void session::try_flush() {
  if (writing_ || ended() || state_ == state::lingering) return;
  if (buf_) {
    auto& b = *buf_;
    while (b.out_off < b.out.size()) {
      std::size_t written = 0;
      if (!write_some(std::string_view(b.out).substr(b.out_off), written)) return;
      if (written == 0) {
        wait_writable();
        return;
      }
      b.out_off += written;
    }
    // Drained. A client that just got output is likely to get more soon
    // (a chat member, a proxied stream): its buffers are kept while it is
    // busy instead of being freed and allocated again for every line; a
    // session that moved no bytes for a second holds none.
    const bool had_queue = !b.out.empty();
    b.out.clear();
    if (b.out.capacity() > max_kept_capacity) std::string().swap(b.out);
    b.out_off = 0;
    park_buffers();
    if (had_queue && state_ == state::open) listener_->get_handler().on_drained(*this);
  }
  after_flush();
}

void session::wait_writable() {
  if (writing_) return;
  writing_ = true;
  switch (output_.next_wait()) {
    case edge_output::wait_by::asio:
      platform::join_reactor(socket_);
      socket_.async_wait(asio::socket_base::wait_write, [self = session_ref(this)](const asio::error_code& ec) {
        if (ec && !self->ended()) {
          self->writing_ = false;
          self->fail(reason::wait_failed, tally::error);
          return;
        }
        self->on_room();
      });
      break;
    case edge_output::wait_by::next_turn:
      asio::post(this_worker().io(), [self = session_ref(this)] { self->on_room(); });
      break;
    case edge_output::wait_by::report:
      ++refs_;  // as a pending wait would
      break;
  }
}

void session::on_room() {
  writing_ = false;
  if (ended()) return;
  try_flush();
}

void session::disconnect_for(reason why) {
  std::uint64_t more = 0;
  if (listener_->disconnect_log().allow(more)) {
    const std::string also = more > 0 ? fmt::format(" ({} more disconnects since the last report)", more) : "";
    const auto& name = listener_->name();
    switch (why) {
      case reason::max_line:
        spdlog::warn("listener {}: {} sent a line longer than max_line ({} bytes); disconnecting{}", name, peer_,
                     listener_->max_line(), also);
        break;
      case reason::max_output:
        spdlog::warn("listener {}: {} is not reading; output queue over max_output ({} bytes); disconnecting{}", name,
                     peer_, listener_->max_output(), also);
        break;
      default:
        spdlog::info(
            "listener {}: {} idle for {} ms; closing{}", name, peer_,
            std::chrono::duration_cast<std::chrono::milliseconds>(listener_->idle_ticks() * worker::tick_period)
                .count(),
            also);
        break;
    }
  }
  if (why == reason::idle) {
    close_reason_ = reason::idle;
    finish();
  } else {
    fail(why, tally::error);
  }
}

}  // namespace plexd::core
