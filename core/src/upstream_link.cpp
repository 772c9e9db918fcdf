#include "upstream_link.hpp"

#include <spdlog/spdlog.h>

#include <asio/connect.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <optional>
#include <utility>

#include "plexd/platform/sockets.hpp"
#include "proxy_protocol.hpp"
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

/// Keeps the client connection, and so this link, alive while an
/// operation on the upstream socket is pending.
class upstream_link::hold {
 public:
  explicit hold(connection& c) : c_(&c) { c_->retain(); }
  hold(const hold& other) : c_(other.c_) { c_->retain(); }
  hold(hold&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}
  hold& operator=(const hold&) = delete;
  hold& operator=(hold&&) = delete;
  ~hold() {
    if (c_ != nullptr) c_->release();
  }

 private:
  connection* c_;
};

/// What a connect needs, freed once connected. The resolver and the timer
/// are made only when needed: a literal address needs no resolver, and a
/// connect that completes at once (loopback) needs no timeout.
struct upstream_link::connect_state {
  std::vector<bool> tried;
  std::optional<tcp::resolver> resolver;
  std::optional<asio::steady_timer> timer;
  std::uint32_t number = 0;  // the attempt whose callbacks still count
};

upstream_link::upstream_link(connection& client, std::shared_ptr<const upstream_pool> pool)
    : client_(client), socket_(worker::current().io()), pool_(std::move(pool)) {}

upstream_link::~upstream_link() {
  if (counted_) target_->active.fetch_sub(1, std::memory_order_relaxed);
}

void upstream_link::start() {
  // Nothing is read from the client until there is somewhere to send it.
  client_.pause_reading();
  connecting_ = std::make_unique<connect_state>();
  try_next();
}

void upstream_link::try_next() {
  target_ = pool_->pick(connecting_->tried);
  if (!target_) return give_up();
  attempt(++connecting_->number);
}

void upstream_link::attempt(std::uint32_t number) {
  // Made only on the paths that use it: a hold costs a retain and a release.
  auto done = [this, number] {
    return
        [this, keep = hold(client_), number](const asio::error_code& ec, const auto&...) { on_connected(number, ec); };
  };
  if (const auto& ep = target_->literal()) {
    // Non-blocking before the connect: Asio then skips its own ioctl, and
    // the writes later need the flag anyway (see connected()).
    asio::error_code ec;
    socket_.open(ep->protocol(), ec);
    if (!ec) socket_.non_blocking(true, ec);
    if (ec) return on_connected(number, ec);
    switch (platform::start_connect(socket_.native_handle(), *ep, ec)) {
      case platform::connect_progress::done:
        return on_connected(number, {});
      case platform::connect_progress::failed:
        return on_connected(number, ec);
      case platform::connect_progress::pending:
        arm_timeout(number);
        socket_.async_wait(tcp::socket::wait_write,
                           [this, keep = hold(client_), number](const asio::error_code& wait_ec) {
                             on_connected(number, wait_ec ? wait_ec : platform::connect_error(socket_.native_handle()));
                           });
        return;
      case platform::connect_progress::not_here:
        break;
    }
    arm_timeout(number);
    socket_.async_connect(*ep, done());
    return;
  }
  arm_timeout(number);
  auto& c = *connecting_;
  if (!c.resolver) c.resolver.emplace(worker::current().io());
  c.resolver->async_resolve(target_->address().host, std::to_string(target_->address().port),
                            [this, keep = hold(client_), number, done = done()](const asio::error_code& ec,
                                                                                const tcp::resolver::results_type& r) {
                              if (phase_ != phase::connecting || connecting_->number != number) return;
                              if (ec) return on_connected(number, ec);
                              asio::async_connect(socket_, r, done);
                            });
}

void upstream_link::arm_timeout(std::uint32_t number) {
  auto& c = *connecting_;
  if (!c.timer) c.timer.emplace(worker::current().io());
  c.timer->expires_after(pool_->options().connect_timeout);
  c.timer->async_wait([this, keep = hold(client_), number](const asio::error_code& ec) {
    if (ec || phase_ != phase::connecting || connecting_->number != number) return;
    // Cancelled operations complete with an error: on_connected moves on.
    asio::error_code ignored;
    if (connecting_->resolver) connecting_->resolver->cancel();
    socket_.close(ignored);
  });
}

void upstream_link::on_connected(std::uint32_t number, const asio::error_code& ec) {
  if (phase_ != phase::connecting || connecting_->number != number) return;
  if (!ec) return connected();
  spdlog::debug("listener {}: {}: connect to upstream {} failed: {}", client_.listener_name(), client_.peer(),
                target_->text(), ec.message());
  target_->connect_failed(pool_->options(), upstream::clock::now());
  asio::error_code ignored;
  socket_.close(ignored);
  ++connecting_->number;  // the timer of this attempt no longer counts
  if (connecting_->timer) connecting_->timer->cancel();
  try_next();
}

void upstream_link::give_up() {
  spdlog::warn("listener {}: {}: no upstream answered; closing", client_.listener_name(), client_.peer());
  phase_ = phase::closed;
  connecting_.reset();
  target_.reset();
  client_.close_now(close_kind::error);
}

void upstream_link::connected() {
  connecting_.reset();  // cancels the timer: its callback sees the new phase
  phase_ = phase::open;
  target_->connect_succeeded();
  target_->active.fetch_add(1, std::memory_order_relaxed);
  counted_ = true;
  asio::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  // Writes are offered straight to the socket: without this, a write to an
  // upstream whose buffer is full would wait inside the kernel and stall
  // the whole loop (Asio's own non-blocking flag covers only its async ops).
  if (!socket_.non_blocking()) socket_.non_blocking(true, ignored);
  spdlog::debug("listener {}: {} joined to upstream {}", client_.listener_name(), client_.peer(), target_->text());
  const auto mode = pool_->options().proxy_protocol;
  if (mode != config::proxy_header::none) {
    const auto header = proxy::encode(mode == config::proxy_header::v1 ? proxy::version::v1 : proxy::version::v2,
                                      client_.peer_endpoint(), client_.local_endpoint());
    header_left_ = static_cast<std::uint32_t>(header.size());
    queue(header);
    flush();
  }
  if (phase_ != phase::open) return;
  client_.resume_reading();
  wait_readable();
}

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
    return true;
  }
  if (ec) {
    upstream_failed();
    return false;
  }
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
  socket_.async_wait(tcp::socket::wait_write, [this, keep = hold(client_)](const asio::error_code& ec) {
    writing_ = false;
    if (phase_ != phase::open) return;
    if (ec) return upstream_failed();
    flush();
  });
}

void upstream_link::wait_readable() {
  if (reading_ || read_paused_ || upstream_eof_ || phase_ != phase::open) return;
  reading_ = true;
  socket_.async_wait(tcp::socket::wait_read,
                     [this, keep = hold(client_)](const asio::error_code& ec) { on_readable(ec); });
}

void upstream_link::on_readable(const asio::error_code& ec) {
  reading_ = false;
  if (phase_ != phase::open) return;
  if (ec) return upstream_failed();
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
    if (would_block(rec)) break;
    if (rec == asio::error::eof) {
      upstream_eof_ = true;
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
    if (n < room) break;  // a short read drained the socket
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
  // Both sides said all they had: close cleanly, the client once its queue is out.
  phase_ = phase::closed;
  close_socket();
  client_.close_after_flush();
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
  connecting_.reset();
  close_socket();
}

void upstream_link::close_socket() {
  if (counted_) target_->active.fetch_sub(1, std::memory_order_relaxed);
  counted_ = false;
  asio::error_code ignored;
  socket_.close(ignored);  // cancels pending waits; they hold the client
  out_.reset();
}

}  // namespace plexd::core
