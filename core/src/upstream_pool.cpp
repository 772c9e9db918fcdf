#include "upstream_pool.hpp"

#include <spdlog/spdlog.h>

#include <asio/connect.hpp>

#include <algorithm>
#include <iterator>
#include <limits>

namespace plexd::core {

using tcp = asio::ip::tcp;

namespace {
// The address that answered last is tried first; the others keep their order.
void move_to_front(upstream::addresses& list, const tcp::endpoint& address) {
  if (auto it = std::find(list.begin(), list.end(), address); it != list.end()) {
    std::rotate(list.begin(), it, std::next(it));
  }
}
}  // namespace

upstream::upstream(std::string listener, config::upstream_address address)
    : listener_(std::move(listener)), address_(std::move(address)), text_(address_.to_string()) {
  asio::error_code ec;
  const auto ip = asio::ip::make_address(address_.host, ec);
  if (!ec) literal_ = tcp::endpoint(ip, address_.port);
}

upstream::availability upstream::available(clock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (check_down_) return availability::check_down;
  if (now < down_until_) return availability::passive_down;
  return availability::usable;
}

upstream::known_addresses upstream::addresses_for(clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (addresses_.empty()) return {};
  if (now - resolved_at_ < reuse_addresses_for) return {addresses_, false};
  // A background resolve that has not answered in 30 s (the system
  // resolver's longest wait, three servers of two 5 s tries each) is given
  // up on: another caller asks again. Asking sooner would only queue more
  // resolves behind it on the loop's one resolver thread.
  constexpr auto given_up_after = std::chrono::seconds(30);
  const bool in_flight = refresh_started_ > resolved_at_ && now - refresh_started_ < given_up_after;
  if (!in_flight) refresh_started_ = now;
  return {addresses_, !in_flight};
}

upstream::addresses upstream::resolved(const tcp::resolver::results_type& found, clock::time_point now) {
  addresses fresh;
  for (const auto& entry : found) fresh.push_back(entry.endpoint());
  std::lock_guard lock(mutex_);
  addresses_ = std::move(fresh);
  resolved_at_ = now;
  if (answered_) move_to_front(addresses_, *answered_);
  return addresses_;
}

void upstream::connected_to(const tcp::endpoint& address) {
  std::lock_guard lock(mutex_);
  answered_ = address;
  move_to_front(addresses_, address);
}

void upstream::refresh_failed(clock::time_point now) {
  std::lock_guard lock(mutex_);
  resolved_at_ = now;
}

void upstream::forget_addresses() {
  std::lock_guard lock(mutex_);
  addresses_ = {};
}

bool upstream::reported_up() const {
  std::lock_guard lock(mutex_);
  return !down_;
}

// Called with the mutex held: state changes are logged once, not per connection.
void upstream::mark_up(const std::string& why) {
  if (!down_) return;
  down_ = false;
  spdlog::info("listener {}: upstream {} is up ({})", listener_, text_, why);
}

void upstream::mark_down(const std::string& why) {
  if (down_) return;
  down_ = true;
  spdlog::warn("listener {}: upstream {} is down ({})", listener_, text_, why);
}

void upstream::connect_succeeded() {
  connects.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  fails_ = 0;
  if (!check_down_) mark_up("a connect succeeded");
}

void upstream::connect_failed(const config::forward_options& o, clock::time_point now) {
  connect_failures.fetch_add(1, std::memory_order_relaxed);
  if (o.max_fails == 0) return;  // passive health off
  std::lock_guard lock(mutex_);
  if (now - window_start_ > o.fail_timeout) {
    window_start_ = now;
    fails_ = 0;
  }
  if (++fails_ < o.max_fails) return;
  fails_ = 0;
  down_until_ = now + o.fail_timeout;
  mark_down(std::to_string(o.max_fails) + " failed connect(s) within fail_timeout; skipped for " +
            std::to_string(o.fail_timeout.count()) + " ms");
}

void upstream::checked(check_result r, const config::forward_options& o) {
  std::lock_guard lock(mutex_);
  if (r == check_result::ok) {
    checks_failed_ = 0;
    if (++checks_ok_ < o.health_rise) return;
    checks_ok_ = o.health_rise;  // saturate
    if (check_down_ || down_) {
      // Checks that pass override a passive fail_timeout: use it again at once.
      check_down_ = false;
      down_until_ = {};
      mark_up(std::to_string(o.health_rise) + " health check(s) passed");
    }
    return;
  }
  checks_ok_ = 0;
  if (++checks_failed_ < o.health_fall) return;
  checks_failed_ = o.health_fall;
  if (check_down_) return;
  check_down_ = true;
  mark_down(std::to_string(o.health_fall) + " health check(s) failed");
}

upstream_status upstream::status() const {
  upstream_status s;
  s.address = text_;
  s.state = reported_up() ? "up" : "down";
  s.active = active.load(std::memory_order_relaxed);
  s.connects = connects.load(std::memory_order_relaxed);
  s.connect_failures = connect_failures.load(std::memory_order_relaxed);
  s.bytes_up = bytes_up.load(std::memory_order_relaxed);
  s.bytes_down = bytes_down.load(std::memory_order_relaxed);
  return s;
}

upstream_pool::upstream_pool(const std::string& listener, const config::forward_options& o,
                             const upstream_pool* previous)
    : options_(o) {
  for (const auto& address : o.upstreams) {
    std::shared_ptr<upstream> kept;
    if (previous != nullptr) {
      for (const auto& m : previous->members_) {
        if (m->address() == address) kept = m;
      }
    }
    members_.push_back(kept ? kept : std::make_shared<upstream>(listener, address));
  }
}

std::ptrdiff_t upstream_pool::choose(const std::vector<bool>& tried, upstream::availability wanted) const {
  const auto n = members_.size();
  const auto now = upstream::clock::now();
  auto eligible = [&](std::size_t i) { return !tried[i] && members_[i]->available(now) == wanted; };
  switch (options_.balance_mode) {
    case config::balance::first:
      for (std::size_t i = 0; i < n; ++i) {
        if (eligible(i)) return static_cast<std::ptrdiff_t>(i);
      }
      return -1;
    case config::balance::round_robin: {
      const auto start = next_.fetch_add(1, std::memory_order_relaxed);
      for (std::size_t k = 0; k < n; ++k) {
        if (eligible((start + k) % n)) return static_cast<std::ptrdiff_t>((start + k) % n);
      }
      return -1;
    }
    case config::balance::least_conn: {
      // Ties go round robin, so equal upstreams share new connections.
      const auto start = next_.fetch_add(1, std::memory_order_relaxed);
      std::ptrdiff_t best = -1;
      auto best_active = std::numeric_limits<std::int64_t>::max();
      for (std::size_t k = 0; k < n; ++k) {
        const auto i = (start + k) % n;
        const auto a = members_[i]->active.load(std::memory_order_relaxed);
        if (eligible(i) && a < best_active) {
          best = static_cast<std::ptrdiff_t>(i);
          best_active = a;
        }
      }
      return best;
    }
  }
  return -1;
}

std::shared_ptr<upstream> upstream_pool::pick(std::vector<bool>& tried) const {
  tried.resize(members_.size(), false);
  auto i = choose(tried, upstream::availability::usable);
  if (i < 0) i = choose(tried, upstream::availability::passive_down);
  if (i < 0) return nullptr;
  tried[static_cast<std::size_t>(i)] = true;
  return members_[static_cast<std::size_t>(i)];
}

// One health check in flight: resolve if needed, connect, time out.
struct health_checker::probe {
  explicit probe(asio::io_context& io) : socket(io), resolver(io), timer(io) {}
  tcp::socket socket;
  tcp::resolver resolver;
  asio::steady_timer timer;
  bool done = false;
};

health_checker::health_checker(asio::io_context& io, std::shared_ptr<const upstream_pool> pool)
    : io_(io), pool_(std::move(pool)), timer_(io) {}

health_checker::~health_checker() {
  // The timers' cancel() throws only when the reactor fails; a destructor
  // can do nothing about that, and must not throw.
  try {
    for (auto& p : probes_) {
      p->done = true;  // a cancelled probe is no result
      asio::error_code ignored;
      p->resolver.cancel();
      p->socket.close(ignored);
      p->timer.cancel();
    }
    timer_.cancel();
  } catch (...) {
    // nothing to do: see above
  }
}

void health_checker::start() {
  round();
}

void health_checker::round() {
  std::erase_if(probes_, [](const std::shared_ptr<probe>& p) { return p->done; });
  for (const auto& m : pool_->members()) check(m);
  timer_.expires_after(pool_->options().health_check);
  timer_.async_wait([weak = weak_from_this()](const asio::error_code& ec) {
    if (auto self = weak.lock(); self && !ec) self->round();
  });
}

void health_checker::check(const std::shared_ptr<upstream>& target) {
  auto p = std::make_shared<probe>(io_);
  probes_.push_back(p);
  const auto& o = pool_->options();
  auto finish = [p, target, pool = pool_](upstream::check_result r) {
    if (p->done) return;
    p->done = true;
    asio::error_code ignored;
    p->timer.cancel();
    p->socket.close(ignored);
    target->checked(r, pool->options());
  };
  p->timer.expires_after(std::min(o.connect_timeout, o.health_check));
  p->timer.async_wait([p, finish](const asio::error_code& ec) {
    if (ec) return;
    p->resolver.cancel();
    finish(upstream::check_result::failed);
  });
  auto connect = [p, finish](const tcp::resolver::results_type& results) {
    asio::async_connect(p->socket, results, [finish](const asio::error_code& ec, const tcp::endpoint&) {
      finish(ec ? upstream::check_result::failed : upstream::check_result::ok);
    });
  };
  if (const auto& ep = target->literal()) {
    p->socket.async_connect(*ep, [finish](const asio::error_code& ec) {
      finish(ec ? upstream::check_result::failed : upstream::check_result::ok);
    });
    return;
  }
  // A check resolves afresh, and its answer serves the clients' connects.
  p->resolver.async_resolve(
      target->address().host, std::to_string(target->address().port),
      [finish, connect, target](const asio::error_code& ec, const tcp::resolver::results_type& r) {
        if (ec) return finish(upstream::check_result::failed);
        target->resolved(r, upstream::clock::now());
        connect(r);
      });
}

}  // namespace plexd::core
