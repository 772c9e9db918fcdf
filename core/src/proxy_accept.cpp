#include "proxy_accept.hpp"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include <algorithm>

#include "listener.hpp"
#include "plexd/platform/endpoint.hpp"
#include "proxy_protocol.hpp"
#include "worker.hpp"

namespace plexd::core {

using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

struct proxy_acceptor::pending {
  pending(socket_type s, const tcp::endpoint& from) : socket(std::move(s)), connecting(from) {}
  socket_type socket;
  tcp::endpoint connecting;
  /// Header bytes already taken off the socket: always a proper prefix of
  /// the header, so no payload byte is ever read here.
  std::string have;
  clock::time_point deadline;
  std::list<pending_ptr>::iterator where;
  bool done = false;
};

struct proxy_acceptor::slot {
  explicit slot(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  std::list<pending_ptr> waiting;  // oldest first
  bool timer_armed = false;
  // Rate-limited warnings: a flood of bad headers must not become a log flood.
  clock::time_point logged_at{};
  std::uint64_t unlogged = 0;
};

proxy_acceptor::proxy_acceptor(listener& owner, loop_context& ctx) : owner_(owner), ctx_(ctx) {
  for (auto& w : ctx.workers) slots_.push_back(std::make_unique<slot>(w->io()));
}

proxy_acceptor::~proxy_acceptor() = default;

void proxy_acceptor::begin(worker& target, socket_type socket, const tcp::endpoint& connecting) {
  auto run = [self = shared_from_this(), &target, s = std::move(socket), connecting]() mutable {
    slot& sl = *self->slots_[target.index()];
    auto p = std::make_shared<pending>(std::move(s), connecting);
    p->deadline = clock::now() + header_timeout;
    p->where = sl.waiting.insert(sl.waiting.end(), p);
    self->arm_timer(sl);
    // The header may already be here, and a wait would only report bytes
    // that arrive from now on (edge-triggered reactors): look first.
    self->on_readable(sl, p);
  };
  if (&target == &ctx_.main_worker()) {
    run();
  } else {
    asio::post(target.io(), std::move(run));
  }
}

void proxy_acceptor::on_readable(slot& sl, const pending_ptr& p) {
  // A header is never longer than max_header_size, so it fits in front of
  // this thread's read buffer; peeking leaves any payload after it in the
  // socket for the session to read.
  char* buf = worker::current().read_buffer();
  for (;;) {
    const std::size_t have = p->have.size();
    std::copy_n(p->have.data(), have, buf);
    asio::error_code ec;
    const std::size_t n =
        p->socket.receive(asio::buffer(buf + have, proxy::max_header_size - have), asio::socket_base::message_peek, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return wait(sl, p);
    if (ec == asio::error::eof || (!ec && n == 0)) {
      // Nothing at all is a balancer's plain TCP health check, not an error.
      return drop(sl, p, have == 0 ? drop_reason::gone : drop_reason::truncated, "closed before the header ended");
    }
    if (ec) return drop(sl, p, drop_reason::gone, ec.message());
    const auto h = proxy::parse(std::string_view(buf, have + n));
    if (h.status == proxy::parse_status::invalid) return drop(sl, p, drop_reason::invalid, h.error);
    if (h.status == proxy::parse_status::complete) {
      if (!take(*p, h.length - have)) return drop(sl, p, drop_reason::gone, "the header could not be read");
      p->done = true;
      sl.waiting.erase(p->where);
      if (sl.waiting.empty()) sl.timer.cancel();
      owner_.start_proxied(std::move(p->socket), p->connecting, h.source, h.destination);
      return;
    }
    // Incomplete: every byte so far belongs to the header. Taking them off
    // the socket means the next wait reports only new bytes.
    if (have + n >= proxy::max_header_size || !take(*p, n)) {
      return drop(sl, p, drop_reason::invalid, "header longer than the limit");
    }
  }
}

bool proxy_acceptor::take(pending& p, std::size_t n) {
  const std::size_t have = p.have.size();
  p.have.resize(have + n);
  asio::error_code ec;
  const std::size_t got = n == 0 ? 0 : p.socket.receive(asio::buffer(p.have.data() + have, n), 0, ec);
  return !ec && got == n;  // these bytes were just peeked: all of them are there
}

void proxy_acceptor::wait(slot& sl, const pending_ptr& p) {
  platform::join_reactor(p->socket);
  p->socket.async_wait(asio::socket_base::wait_read, [self = shared_from_this(), &sl, p](const asio::error_code& ec) {
    if (p->done) return;
    if (ec) return self->drop(sl, p, drop_reason::gone, ec.message());
    self->on_readable(sl, p);
  });
}

void proxy_acceptor::drop(slot& sl, const pending_ptr& p, drop_reason why, const std::string& detail) {
  if (p->done) return;
  p->done = true;
  sl.waiting.erase(p->where);
  if (sl.waiting.empty()) sl.timer.cancel();
  asio::error_code ignored;
  p->socket.close(ignored);  // cancels the pending wait, which sees `done`
  switch (why) {
    case drop_reason::invalid:
      log_drop(sl, *p, "bad PROXY protocol header (" + detail + ")");
      break;
    case drop_reason::truncated:
      log_drop(sl, *p, "incomplete PROXY protocol header (" + detail + ")");
      break;
    case drop_reason::timeout:
      log_drop(sl, *p, "no complete PROXY protocol header within " + std::to_string(header_timeout.count()) + " ms");
      break;
    case drop_reason::gone:
    case drop_reason::stopping:
      spdlog::debug("listener {}: {} closed before its PROXY protocol header ({})", owner_.name(),
                    platform::endpoint_text(p->connecting), why == drop_reason::stopping ? "stopping" : detail);
      break;
  }
  // Protocol faults are errors; a client that leaves, or a stop, is not.
  if (why == drop_reason::invalid || why == drop_reason::truncated || why == drop_reason::timeout) {
    owner_.stats().errors.fetch_add(1, std::memory_order_relaxed);
  }
  owner_.pending_closed();
}

void proxy_acceptor::log_drop(slot& sl, const pending& p, const std::string& what) {
  const auto now = clock::now();
  if (now - sl.logged_at < std::chrono::seconds(1)) {
    ++sl.unlogged;
    return;
  }
  sl.logged_at = now;
  if (sl.unlogged > 0) {
    spdlog::warn("listener {}: {}: {}; closed ({} more since the last report)", owner_.name(),
                 platform::endpoint_text(p.connecting), what, sl.unlogged);
  } else {
    spdlog::warn("listener {}: {}: {}; closed", owner_.name(), platform::endpoint_text(p.connecting), what);
  }
  sl.unlogged = 0;
}

void proxy_acceptor::arm_timer(slot& sl) {
  if (sl.timer_armed) return;
  sl.timer_armed = true;
  sl.timer.expires_after(sweep_period);
  sl.timer.async_wait([self = shared_from_this(), &sl](const asio::error_code&) {
    sl.timer_armed = false;
    // Even when cancelled: a connection may have arrived since, and the
    // cancelled wait was still counted as armed when it did.
    if (!sl.waiting.empty()) {
      self->expire(sl);
      if (!sl.waiting.empty()) self->arm_timer(sl);
    }
  });
}

void proxy_acceptor::expire(slot& sl) {
  const auto now = clock::now();
  while (!sl.waiting.empty() && sl.waiting.front()->deadline <= now) {
    drop(sl, pending_ptr(sl.waiting.front()), drop_reason::timeout, "");
  }
}

void proxy_acceptor::abort_all() {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    slot& sl = *slots_[i];
    asio::post(ctx_.workers[i]->io(), [self = shared_from_this(), &sl] {
      while (!sl.waiting.empty()) self->drop(sl, pending_ptr(sl.waiting.front()), drop_reason::stopping, "");
    });
  }
}

}  // namespace plexd::core
