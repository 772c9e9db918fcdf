// The backplane's connection side: two links to Redis, their state, and
// reconnecting with exponential backoff and jitter.
#include <spdlog/spdlog.h>

#include <asio/ip/host_name.hpp>
#include <cstdio>
#include <random>

#include "backplane_impl.hpp"
#include "plexd/platform/process.hpp"

namespace plexd::core {
namespace {

const char* state_name(bus_state s) {
  switch (s) {
    case bus_state::connecting:
      return "connecting";
    case bus_state::up:
      return "up";
    case bus_state::down:
      return "down";
    case bus_state::off:
      return "off";
  }
  return "?";
}

std::string default_instance() {
  asio::error_code ec;
  auto host = asio::ip::host_name(ec);
  if (ec || host.empty()) host = "plexd";
  return host + "-" + std::to_string(platform::current_pid());
}

}  // namespace

std::shared_ptr<backplane> backplane::create(asio::io_context& io, const config::backplane_config& cfg) {
  return std::make_shared<backplane_impl>(io, cfg);
}

backplane_impl::backplane_impl(asio::io_context& io, const config::backplane_config& cfg)
    : io_(io), cfg_(cfg), retry_(io) {
  instance_ = cfg.instance.empty() ? default_instance() : cfg.instance;
  // Unique per process run: a restarted instance is a new origin, so its
  // sequence numbers start afresh without being taken for duplicates.
  std::random_device rd;
  char token[17];
  std::snprintf(token, sizeof token, "%08x%08x", rd(), rd());
  origin_ = instance_ + "/" + token;
  rng_.seed(rd());
}

void backplane_impl::start() {
  spdlog::info("backplane: connecting to redis {} as instance {}", cfg_.describe(), instance_);
  connect();
}

void backplane_impl::stop() {
  stopped_ = true;
  retry_.cancel();
  if (pub_) pub_->close();
  if (sub_) sub_->close();
  set_state(bus_state::off, "stopping");
}

void backplane_impl::connect() {
  if (stopped_) return;
  const auto gen = ++generation_;
  links_ready_ = 0;
  pub_ = std::make_shared<redis_link>(io_, cfg_, reply_timeout);
  sub_ = std::make_shared<redis_link>(io_, cfg_, reply_timeout);
  auto self = shared_from_this();
  auto ready = [self, gen](const std::string&) {
    if (gen == self->generation_) self->link_ready();
  };
  auto lost = [self, gen](const std::string& error) {
    if (gen == self->generation_) self->link_lost(error);
  };
  pub_->start(ready, lost);
  sub_->start(ready, lost);
}

void backplane_impl::link_ready() {
  if (++links_ready_ < 2) return;
  if (ever_up_) ++reconnects_;
  ever_up_ = true;
  attempt_ = 0;
  drop_logged_ = false;
  for (auto& [name, room] : rooms_) room.synced = false;
  set_state(bus_state::up, "");
  flush();
  read_cycle();
}

void backplane_impl::link_lost(const std::string& error) {
  ++generation_;  // the other link's report is now stale
  pub_->close();
  sub_->close();
  in_flight_ = 0;  // unacknowledged entries go out again after the reconnect
  reading_ = false;
  last_error_ = error;
  set_state(bus_state::down, error);
  // While down the queue drops its oldest lines instead of holding senders,
  // so the local part of every room keeps working.
  unblock_senders();
  schedule_retry();
}

void backplane_impl::schedule_retry() {
  if (stopped_) return;
  // 250 ms doubling up to 30 s, each wait drawn from its upper half so that
  // instances cut off together do not all come back in the same instant.
  const auto ceiling = std::min<std::int64_t>(30'000, std::int64_t{250} << std::min(attempt_, 7U));
  ++attempt_;
  std::uniform_int_distribution<std::int64_t> pick(ceiling / 2, ceiling);
  retry_.expires_after(std::chrono::milliseconds(pick(rng_)));
  retry_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (!ec) self->connect();
  });
}

void backplane_impl::set_state(bus_state next, const std::string& why) {
  const auto prev = state_.exchange(next);
  if (prev == next) return;
  switch (next) {
    case bus_state::up:
      spdlog::info("backplane: up (redis {}, instance {}{})", cfg_.describe(), instance_,
                   reconnects_ ? ", reconnect " + std::to_string(reconnects_) : std::string());
      break;
    case bus_state::down:
      spdlog::warn("backplane: down: {}; local rooms keep working, reconnecting with backoff", why);
      break;
    case bus_state::off:
      spdlog::info("backplane: off ({})", why);
      break;
    case bus_state::connecting:
      break;
  }
}

backplane_status backplane_impl::status() const {
  backplane_status s;
  s.state = state_name(state_.load());
  s.redis = cfg_.describe();
  s.instance = instance_;
  s.published = published_;
  s.received = received_;
  s.reconnects = reconnects_;
  s.dropped = dropped_;
  s.last_error = last_error_;
  return s;
}

}  // namespace plexd::core
