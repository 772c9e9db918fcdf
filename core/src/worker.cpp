#include "worker.hpp"

#include <asio/post.hpp>

#include <array>

#include "session.hpp"

namespace plexd::core {

// Concurrency hint 1: each io_context is run by exactly one thread, which
// lets Asio skip some locking; posting from other threads stays safe.
worker::worker(unsigned index)
    : index_(index),
      io_(1),
      timer_(io_),
      ready_set_(io_, [this] { dispatch_ready(); }),
      guard_(asio::make_work_guard(io_)),
      read_buffer_(std::make_unique<char[]>(read_buffer_size)) {}

void worker::add(session* s) {
  s->prev_ = nullptr;
  s->next_ = head_;
  if (head_ != nullptr) head_->prev_ = s;
  head_ = s;
  ++count_;
  if (sweep_ == sweep_state::asleep && !released_) arm_sweep();
}

void worker::remove(session* s) {
  if (s->prev_ != nullptr) {
    s->prev_->next_ = s->next_;
  } else if (head_ == s) {
    head_ = s->next_;
  }
  if (s->next_ != nullptr) s->next_->prev_ = s->prev_;
  s->prev_ = s->next_ = nullptr;
  --count_;
  if (released_ && count_ == 0) stop_waiting();
}

void worker::stop_waiting() {
  guard_.reset();
  timer_.cancel();
  ready_set_.cancel();
  ready_armed_ = false;
}

bool worker::watch_socket(asio::ip::tcp::socket::native_handle_type socket, ready_target& target) {
  if (!ready_set_.available() || released_) return false;
  if (!ready_set_.watch(socket, &target)) return false;
  if (!ready_armed_) {
    ready_armed_ = true;
    ready_set_.arm();
  }
  return true;
}

void worker::dispatch_ready() {
  constexpr std::size_t batch = 64;
  constexpr int most_batches = 4;  // then the rest of the loop gets a turn
  // Taken again until the set is empty: a busy loop finds the answers to
  // what it just sent already there, and each look costs one call, where
  // going back through the loop's own wait costs three (re-arm, wait, take).
  std::array<platform::readiness_set::report, batch> reports{};
  for (int round = 0; round < most_batches; ++round) {
    const std::size_t n = ready_set_.take(reports);
    for (std::size_t i = 0; i < n; ++i) static_cast<ready_target*>(reports[i].token)->retain_target();
    for (std::size_t i = 0; i < n; ++i) {
      auto* t = static_cast<ready_target*>(reports[i].token);
      t->on_ready(reports[i].input, reports[i].output);
      t->release_target();
    }
    if (n == 0) break;
  }
  if (ready_armed_) ready_set_.arm();
}

std::vector<session_ref> worker::snapshot() {
  std::vector<session_ref> all;
  all.reserve(count_);
  for (session* s = head_; s != nullptr; s = s->next_) all.emplace_back(s);
  return all;
}

void worker::defer_flush(session* s) {
  deferred_.emplace_back(s);
  if (deferred_.size() > 1) return;
  // Posted now, it runs after the completions this turn already has ready.
  asio::post(io_, [this] { flush_deferred(); });
}

void worker::flush_deferred() {
  flushing_.swap(deferred_);
  // A flush may close a session, whose notices defer more output: that
  // goes to deferred_ and gets a flush of its own.
  for (auto& s : flushing_) s->flush_deferred();
  flushing_.clear();
}

void worker::start_sweep(const std::atomic<bool>* idle_checks) {
  idle_checks_ = idle_checks;
  arm_sweep();
}

void worker::arm_sweep() {
  sweep_ = sweep_state::armed;
  timer_.expires_after(tick_period);
  timer_.async_wait([this](const asio::error_code& ec) {
    if (!ec) on_tick();
  });
}

void worker::on_tick() {
  ++tick_;
  reviewed_.swap(parked_);
  for (auto& s : reviewed_) {
    if (s->review_parked_buffers() == session::parking::kept) parked_.push_back(std::move(s));
  }
  reviewed_.clear();  // may end the last reference to a closed session
  if (deadlines_ > 0 || (idle_checks_ != nullptr && idle_checks_->load(std::memory_order_relaxed))) {
    // Act on a snapshot: closing one session may close others (chat notices).
    for (auto& s : snapshot()) s->on_tick(tick_);
  }
  if (released_ && count_ == 0) return;  // stopping and nothing left: let run() return
  if (count_ == 0 && parked_.empty()) {
    // Nothing to time out: sleep until a session arrives. Ticks stand
    // still meanwhile, which no session can tell.
    sweep_ = sweep_state::asleep;
    return;
  }
  arm_sweep();
}

namespace {
// One per thread by design: see worker::current().
thread_local worker* current_worker = nullptr;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
}  // namespace

worker& worker::current() {
  return *current_worker;
}

void worker::run() {
  current_worker = this;
  io_.run();
  current_worker = nullptr;
}

void worker::start_thread() {
  thread_ = std::thread([this] { run(); });
}

void worker::release() {
  released_ = true;
  if (count_ == 0) stop_waiting();
}

void worker::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace plexd::core
