#include "plexd/core/server.hpp"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include "listener.hpp"
#include "loop_context.hpp"
#include "plexd/core/handler.hpp"
#include "reload_plan.hpp"
#include "session.hpp"

namespace plexd::core {

namespace {
std::uint32_t ticks_for(std::chrono::milliseconds d) {
  const auto t = worker::tick_period.count();
  return static_cast<std::uint32_t>((d.count() + t - 1) / t);
}
}  // namespace

server::server(unsigned threads) : ctx_(std::make_unique<loop_context>()) {
  threads = std::max(1U, threads);
  for (unsigned i = 0; i < threads; ++i) ctx_->workers.push_back(std::make_unique<worker>(i));
  ctx_->env.worker_count = threads;
  ctx_->env.main_io = &ctx_->main_worker().io();
  ctx_->env.post = [ctx = ctx_.get()](unsigned w, std::function<void()> fn) {
    asio::post(ctx->workers[w]->io(), std::move(fn));
  };
}

server::~server() {
  for (auto& w : ctx_->workers) w->join();
}

asio::io_context& server::main_io() {
  return ctx_->main_worker().io();
}
unsigned server::threads() const {
  return static_cast<unsigned>(ctx_->workers.size());
}
void server::set_room_bus(std::shared_ptr<room_bus> rooms) {
  ctx_->env.rooms = std::move(rooms);
}

platform::result<std::shared_ptr<listener>> server::open_listener(const config::listener_config& lc) {
  auto l = std::make_shared<listener>(*ctx_, lc, make_handler(lc, ctx_->env));
  if (auto opened = l->open(); !opened) return platform::fail(opened.error());
  return l;
}

std::vector<std::string> server::open(const config::config& cfg) {
  std::vector<std::string> errors;
  grace_ = cfg.daemon.shutdown_grace;
  for (const auto& lc : cfg.listeners) {
    auto opened = open_listener(lc);
    if (!opened) {
      errors.push_back(opened.error());
      continue;
    }
    listeners_[lc.name] = std::move(*opened);
  }
  if (!errors.empty()) {
    // Nothing half-started: release every port we did get.
    for (auto& [name, l] : listeners_) l->stop_accepting(listener::lifecycle::stopped);
    listeners_.clear();
  }
  refresh_idle_checks();
  remember_order(cfg);
  return errors;
}

void server::start() {
  for (auto& [name, l] : listeners_) l->start();
  for (auto& w : ctx_->workers) w->start_sweep(&ctx_->idle_checks);
}

void server::run() {
  for (std::size_t i = 1; i < ctx_->workers.size(); ++i) ctx_->workers[i]->start_thread();
  ctx_->main_worker().run();
  for (auto& w : ctx_->workers) w->join();
}

std::vector<std::string> server::apply(const config::config& cfg) {
  std::vector<std::string> failures;
  const auto old_grace = grace_;
  grace_ = cfg.daemon.shutdown_grace;
  std::vector<config::listener_config> current;
  for (const auto& [name, l] : listeners_) current.push_back(l->config());
  for (const auto& step : plan_reload(current, cfg.listeners)) {
    if (auto error = apply_step(step, old_grace); !error.empty()) failures.push_back(std::move(error));
  }
  refresh_idle_checks();
  reap_drained();
  remember_order(cfg);
  return failures;
}

std::string server::apply_step(const listener_step& step, std::chrono::milliseconds old_grace) {
  auto it = listeners_.find(step.name);
  switch (step.change) {
    case listener_change::remove:
      spdlog::info("reload: listener {} removed; draining its connections for up to {} ms", step.name,
                   old_grace.count());
      remove_listener(it->second, old_grace);
      listeners_.erase(it);
      return {};
    case listener_change::keep:
      it->second->apply(*step.next);  // unchanged identity: connections stay
      return {};
    case listener_change::rehandle:
      // Same address, new handler: the old acceptor must let go first.
      spdlog::info("reload: listener {} changes handler {} -> {}", step.name, it->second->config().handler,
                   step.next->handler);
      remove_listener(it->second, grace_);
      listeners_.erase(it);
      it = listeners_.end();
      break;
    case listener_change::add:
    case listener_change::move:
      break;
  }
  auto opened = open_listener(*step.next);
  if (!opened) return opened.error() + (it != listeners_.end() ? " (still serving on the old address)" : "");
  auto fresh = std::move(*opened);
  if (it != listeners_.end()) {
    spdlog::info("reload: listener {} moves {} -> {}", step.name, it->second->config().bind.to_string(),
                 step.next->bind.to_string());
    remove_listener(it->second, grace_);
    listeners_.erase(it);
  }
  fresh->start();
  listeners_[step.name] = std::move(fresh);
  return {};
}

void server::remove_listener(const std::shared_ptr<listener>& l, std::chrono::milliseconds grace) {
  l->stop_accepting(listener::lifecycle::draining);
  l->get_handler().retire();
  draining_.push_back(l);
  for (auto& w : ctx_->workers) {
    asio::post(w->io(), [wk = w.get(), l, grace] {
      const auto deadline = wk->now_tick() + ticks_for(grace);
      for (auto& s : wk->snapshot()) {
        if (s->owner() == l.get()) s->drain_at(deadline);
      }
    });
  }
}

void server::remember_order(const config::config& cfg) {
  order_.clear();
  for (const auto& lc : cfg.listeners) order_.push_back(lc.name);
}

void server::reap_drained() {
  std::erase_if(draining_, [](const std::shared_ptr<listener>& l) { return l->stats().active.load() == 0; });
}

void server::refresh_idle_checks() {
  bool any = false;
  for (auto& [name, l] : listeners_) any = any || l->has_idle_timeout();
  ctx_->idle_checks = any;
}

void server::stop(std::chrono::milliseconds grace) {
  if (stopping_) return;
  stopping_ = true;
  for (auto& [name, l] : listeners_) l->stop_accepting(listener::lifecycle::stopped);
  for (auto& l : draining_) l->stop_accepting(listener::lifecycle::stopped);
  // Background work (health checks) would keep the main loop running.
  for (auto& [name, l] : listeners_) l->get_handler().retire();
  const auto ticks = ticks_for(grace);
  for (auto& w : ctx_->workers) {
    asio::post(w->io(), [wk = w.get(), ticks] {
      const auto deadline = wk->now_tick() + ticks;
      for (auto& s : wk->snapshot()) s->begin_drain(deadline);
      wk->release();
    });
  }
}

void server::probe_workers(std::function<void()> all_answered) {
  auto remaining = std::make_shared<std::atomic<std::size_t>>(ctx_->workers.size());
  auto done = std::make_shared<std::function<void()>>(std::move(all_answered));
  asio::io_context& main = main_io();
  for (auto& w : ctx_->workers) {
    asio::post(w->io(), [remaining, done, &main] {
      if (--*remaining == 0) asio::post(main, [done] { (*done)(); });
    });
  }
}

std::vector<listener_status> server::status() const {
  std::vector<listener_status> out;
  auto add = [&](const listener& l) {
    const auto& s = l.stats();
    listener_status st;
    st.name = l.name();
    st.bind = l.bound_address();
    st.handler = l.config().handler;
    st.state = l.state();
    st.active = s.active.load();
    st.accepted = s.accepted.load();
    st.refused = s.refused.load();
    for (std::size_t i = 0; i < s.refused_by.size(); ++i) {
      st.refused_by[std::string(refusal_name(static_cast<refusal>(i)))] = s.refused_by[i].load();
    }
    st.bytes_in = s.bytes_in.load();
    st.bytes_out = s.bytes_out.load();
    st.errors = s.errors.load();
    st.upstreams = l.get_handler().upstreams();
    out.push_back(std::move(st));
  };
  for (const auto& name : order_) {
    if (auto it = listeners_.find(name); it != listeners_.end()) add(*it->second);
  }
  for (const auto& l : draining_) {
    if (l->stats().active.load() > 0) add(*l);
  }
  return out;
}

std::int64_t server::active_connections() const {
  std::int64_t n = 0;
  for (const auto& [name, l] : listeners_) n += l->stats().active.load();
  for (const auto& l : draining_) n += l->stats().active.load();
  return n;
}

}  // namespace plexd::core
