#include "redis_link.hpp"

#include <asio/connect.hpp>
#include <asio/write.hpp>

namespace plexd::core {

using clock = std::chrono::steady_clock;

redis_link::redis_link(asio::io_context& io, const config::backplane_config& target, std::chrono::milliseconds timeout)
    : target_(target), timeout_(timeout), resolver_(io), socket_(io), timer_(io) {}

void redis_link::start(status_fn ready, status_fn lost) {
  ready_ = std::move(ready);
  lost_ = std::move(lost);
  connect_deadline_ = clock::now() + timeout_;
  arm_watchdog();
  resolver_.async_resolve(
      target_.host, std::to_string(target_.port),
      [self = shared_from_this()](const asio::error_code& ec, const asio::ip::tcp::resolver::results_type& results) {
        if (self->closed_) return;
        if (ec) return self->fail("cannot resolve " + self->target_.host + ": " + ec.message());
        asio::async_connect(self->socket_, results, [self](const asio::error_code& error, const auto&) {
          if (self->closed_) return;
          if (error) return self->fail("cannot connect to " + self->target_.describe() + ": " + error.message());
          self->on_connected();
        });
      });
}

void redis_link::on_connected() {
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  socket_.set_option(asio::socket_base::keep_alive(true), ignored);
  open_ = true;
  read_more();
  handshake();
}

// Pipelined: AUTH, SELECT and PING go out together; the PING reply is the
// sign that everything before it was accepted.
void redis_link::handshake() {
  auto self = shared_from_this();
  auto check = [self](const char* what) {
    return [self, what](const resp::value& v) {
      // Redis's own error text names the problem, never the password.
      if (v.is_error()) self->fail(std::string(what) + " failed: " + v.text);
    };
  };
  if (!target_.password.empty()) {
    std::string cmd;
    resp::encode(cmd, {"AUTH", target_.password});
    command(std::move(cmd), check("AUTH"));
  }
  if (target_.db != 0) {
    std::string cmd;
    resp::encode(cmd, {"SELECT", std::to_string(target_.db)});
    command(std::move(cmd), check("SELECT"));
  }
  std::string ping;
  resp::encode(ping, {"PING"});
  command(std::move(ping), [self](const resp::value& v) {
    if (v.is_error()) return self->fail("PING failed: " + v.text);
    self->connect_deadline_ = {};
    if (auto ready = std::move(self->ready_)) ready("");
  });
}

void redis_link::command(std::string encoded, reply_fn on_reply, std::chrono::milliseconds extra) {
  if (closed_) return;
  pending_.push_back({std::move(on_reply), clock::now() + timeout_ + extra});
  arm_watchdog();
  // Most commands find nothing queued: take the string instead of copying.
  if (out_.empty())
    out_ = std::move(encoded);
  else
    out_ += encoded;
  if (open_) write_more();
}

void redis_link::write_more() {
  if (write_active_ || out_.empty() || closed_) return;
  writing_.swap(out_);
  out_.clear();
  write_active_ = true;
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                      self->write_active_ = false;
                      if (self->closed_) return;
                      if (ec) return self->fail("write to redis failed: " + ec.message());
                      self->writing_.clear();
                      self->write_more();
                    });
}

void redis_link::read_more() {
  socket_.async_read_some(asio::buffer(read_buffer_),
                          [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                            if (self->closed_) return;
                            if (ec)
                              return self->fail(ec == asio::error::eof ? "redis closed the connection"
                                                                       : "read from redis failed: " + ec.message());
                            self->parser_.feed(std::string_view(self->read_buffer_, n));
                            resp::value v;
                            for (;;) {
                              const auto r = self->parser_.next(v);
                              if (r == resp::result::need_more) break;
                              if (r == resp::result::error)
                                return self->fail("bad reply from redis: " + self->parser_.error());
                              if (self->pending_.empty()) return self->fail("unexpected reply from redis");
                              auto fn = std::move(self->pending_.front().fn);
                              self->pending_.pop_front();
                              if (fn) fn(v);
                              if (self->closed_) return;
                            }
                            self->read_more();
                          });
}

// One timer, set for the nearest deadline (the connect's, then the oldest
// reply's), so that an idle link does not wake the loop. Replies come back
// in order: a later command cannot be answered before the oldest one.
void redis_link::arm_watchdog() {
  if (watchdog_armed_ || closed_) return;
  auto next = connect_deadline_;
  if (!pending_.empty() && (next == clock::time_point{} || pending_.front().deadline < next))
    next = pending_.front().deadline;
  if (next == clock::time_point{}) return;
  watchdog_armed_ = true;
  timer_.expires_at(next);
  timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (ec || self->closed_) return;
    self->watchdog_armed_ = false;
    const auto now = clock::now();
    if (self->connect_deadline_ != clock::time_point{} && now >= self->connect_deadline_)
      return self->fail("no answer from " + self->target_.describe() + " within " +
                        std::to_string(self->timeout_.count()) + " ms");
    if (!self->pending_.empty() && now >= self->pending_.front().deadline)
      return self->fail("redis did not reply within " + std::to_string(self->timeout_.count()) + " ms");
    self->arm_watchdog();
  });
}

void redis_link::fail(const std::string& error) {
  if (closed_) return;
  auto lost = std::move(lost_);
  close();
  if (lost) lost(error);
}

void redis_link::close() {
  if (closed_) return;
  closed_ = true;
  open_ = false;
  asio::error_code ignored;
  resolver_.cancel();
  timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  pending_.clear();
  // The callbacks hold the owner: dropping them breaks the cycle.
  ready_ = nullptr;
  lost_ = nullptr;
}

}  // namespace plexd::core
