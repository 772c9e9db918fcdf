// The upstream side once connected: bytes both ways, half-close, close.
#include "upstream_link.hpp"

#include <asio/post.hpp>

#include <algorithm>

#include "worker.hpp"

namespace plexd::core {

using tcp = asio::ip::tcp;

namespace {
// Reads per wake-up before yielding to other sockets (as a session does).
constexpr int max_reads_per_wakeup = 4;

bool would_block(const asio::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}
}  // namespace

void upstream_link::from_client(std::string_view data) {
  if (phase_ != phase::open) return;
  if (!out_ && !writing_) {
    // The common case: the upstream takes it all, nothing is copied.
    std::size_t written = 0;
    if (!write_some(data, written)) return;
    data.remove_prefix(written);
    if (data.empty()) return;
  }
  queue(data);
  if (!writing_) wait_writable();
}

void upstream_link::queue(std::string_view data) {
  if (!out_) out_ = std::make_unique<pending>();
  out_->data.append(data);
  if (out_->size() >= pool_->options().buffer) client_.pause_reading();
}

bool upstream_link::write_some(std::string_view data, std::size_t& written) {
  asio::error_code ec;
  written = socket_.write_some(asio::buffer(data.data(), data.size()), ec);
  if (would_block(ec)) {
    written = 0;
    output_.refused();
    return true;
  }
  if (ec) {
    upstream_failed();
    return false;
  }
  if (written < data.size()) output_.refused();
  const auto header = std::min<std::size_t>(header_left_, written);
  header_left_ -= static_cast<std::uint32_t>(header);
  target_->bytes_up.fetch_add(written - header, std::memory_order_relaxed);
  return true;
}

void upstream_link::flush() {
  while (out_ && phase_ == phase::open) {
    std::size_t written = 0;
    if (!write_some(std::string_view(out_->data).substr(out_->offset), written)) return;
    if (written == 0) return wait_writable();
    out_->offset += written;
    if (out_->size() == 0) {
      out_.reset();  // an idle pair holds no buffer
      if (!client_eof_) client_.resume_reading();
      send_fin_if_due();
    }
  }
}

void upstream_link::wait_writable() {
  if (writing_) return;
  writing_ = true;
  switch (output_.next_wait()) {
    case edge_output::wait_by::asio:
      platform::join_reactor(socket_);
      socket_.async_wait(tcp::socket::wait_write, [this, keep = hold(client_)](const asio::error_code& ec) {
        if (ec && phase_ == phase::open) {
          writing_ = false;
          return upstream_failed();
        }
        on_room();
      });
      break;
    case edge_output::wait_by::next_turn:
      asio::post(worker::current().io(), [this, keep = hold(client_)] { on_room(); });
      break;
    case edge_output::wait_by::report:
      client_.retain();  // as a pending wait would
      break;
  }
}

void upstream_link::on_room() {
  writing_ = false;
  if (phase_ != phase::open) return;
  flush();
}

void upstream_link::wait_readable() {
  if (reading_ || read_paused_ || upstream_eof_ || phase_ != phase::open) return;
  reading_ = true;
  switch (input_.next_wait()) {
    case edge_input::wait_by::asio:
      platform::join_reactor(socket_);
      socket_.async_wait(tcp::socket::wait_read,
                         [this, keep = hold(client_)](const asio::error_code& ec) { on_readable(ec); });
      break;
    case edge_input::wait_by::next_turn:
      // No new report will come for what the last wake-up left.
      asio::post(worker::current().io(), [this, keep = hold(client_)] { on_readable({}); });
      break;
    case edge_input::wait_by::report:
      client_.retain();  // as a pending wait would
      break;
    case edge_input::wait_by::nothing:
      break;
  }
}

void upstream_link::on_ready(platform::input_state input, platform::output_state output) {
  const hold keep(client_);
  if (input_.became_busy()) platform::leave_reactor(socket_);
  if (output_.reported(output)) {
    client_.release();  // the wait's own; `keep` holds the client
    on_room();
  }
  if (input_.reported(input)) {
    client_.release();
    on_readable({});
  }
}

void upstream_link::on_readable(const asio::error_code& ec) {
  reading_ = false;
  if (phase_ != phase::open) return;
  if (ec) return upstream_failed();
  input_.reading();
  char* buf = worker::current().read_buffer();
  const std::size_t limit = pool_->options().buffer;
  for (int i = 0; i < max_reads_per_wakeup; ++i) {
    // Read no more than the client's queue can still hold: that queue is
    // this direction's one buffer.
    const std::size_t queued = client_.queued();
    if (queued >= limit) {
      read_paused_ = true;  // client_drained() resumes
      return;
    }
    const std::size_t room = std::min(limit - queued, worker::read_buffer_size);
    asio::error_code rec;
    const std::size_t n = socket_.read_some(asio::buffer(buf, room), rec);
    if (would_block(rec)) {
      input_.drained();
      break;
    }
    if (rec == asio::error::eof) {
      upstream_eof_ = true;
      if (!passes_half_close()) return end_at_upstream_fin();
      // Pass the FIN on; the other direction keeps flowing. When both sides
      // are done, the close right after sends it anyway.
      if (!fin_sent_) client_.shutdown_send();
      if (!client_eof_) client_.close_within(pool_->options().fin_timeout);
      return finish_if_done();
    }
    if (rec) return upstream_failed();
    target_->bytes_down.fetch_add(n, std::memory_order_relaxed);
    client_.send_now(std::string_view(buf, n));
    if (phase_ != phase::open) return;
    if (n < room && input_.short_read_drained()) break;
  }
  wait_readable();
}

void upstream_link::client_drained() {
  if (!read_paused_) return;
  read_paused_ = false;
  wait_readable();
}

void upstream_link::client_eof() {
  client_eof_ = true;
  if (phase_ != phase::open) return;
  // Without half-close nothing more is read from the upstream: the pair
  // closes once what the client sent has reached it, and that close is
  // the upstream's FIN.
  if (!passes_half_close()) upstream_eof_ = true;
  send_fin_if_due();
  if (!upstream_eof_) client_.close_within(pool_->options().fin_timeout);
  finish_if_done();
}

void upstream_link::send_fin_if_due() {
  if (!client_eof_ || fin_sent_ || out_ || phase_ != phase::open) return;
  fin_sent_ = true;
  // After the upstream's own FIN everything it sent has been read, so the
  // close that follows is a clean FIN: no separate shutdown needed.
  if (!upstream_eof_) {
    asio::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }
  finish_if_done();
}

void upstream_link::finish_if_done() {
  if (phase_ != phase::open || !fin_sent_ || !upstream_eof_) return;
  close_pair();  // both sides said all they had
}

void upstream_link::close_pair() {
  // A clean end: the upstream now, the client once its queue is out.
  phase_ = phase::closed;
  close_socket();
  client_.close_after_flush();
}

bool upstream_link::passes_half_close() const {
  return pool_->options().half_close;
}

void upstream_link::end_at_upstream_fin() {
  // Without half-close the upstream's FIN ends the pair: what it sent
  // still reaches the client, then the client gets a FIN; anything still
  // queued for the upstream is dropped with the connection.
  close_pair();
}

void upstream_link::upstream_failed() {
  if (phase_ != phase::open) return;
  phase_ = phase::closed;
  close_socket();
  client_.close_now(close_kind::reset);  // a reset on one side resets the other
}

void upstream_link::client_closed() {
  if (phase_ == phase::closed) return;
  if (phase_ == phase::open) {
    // The client went away before both sides finished (reset, timeout,
    // stop): the upstream is reset too rather than left half-open.
    asio::error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  }
  phase_ = phase::closed;
  stop_connecting();
  close_socket();
}

void upstream_link::close_socket() {
  if (counted_) target_->active.fetch_sub(1, std::memory_order_relaxed);
  counted_ = false;
  asio::error_code ignored;
  socket_.close(ignored);  // cancels pending waits; they hold the client
  out_.reset();
  if (input_.stop()) client_.release();  // the report wait's; every caller holds the client too
  if (output_.stop()) client_.release();
}

}  // namespace plexd::core
