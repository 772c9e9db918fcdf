// One event-loop thread: its io_context, the sessions living on it, the
// shared read buffer, and a coarse timer for idle timeouts and deadlines
// (one timer per thread instead of one per connection: a steady_timer per
// connection would add to every idle connection's memory).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "plexd/platform/readiness.hpp"
#include "ready_target.hpp"
#include "session_ref.hpp"

namespace plexd::core {

class session;

class worker {
 public:
  static constexpr std::size_t read_buffer_size = std::size_t{64} * 1024;
  static constexpr std::chrono::milliseconds tick_period{100};

  explicit worker(unsigned index);
  ~worker() = default;
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;
  worker(worker&&) = delete;
  worker& operator=(worker&&) = delete;

  asio::io_context& io() { return io_; }
  unsigned index() const { return index_; }
  /// One buffer per thread: a read shorter than it drains the socket, so
  /// idle connections hold no buffer of their own.
  char* read_buffer() { return read_buffer_.get(); }
  /// Output gathered while one session handles one read (only one session
  /// does so at a time on a thread), written with one call at the end.
  std::string& batch_output() { return batch_output_; }
  /// Milliseconds since this worker started, modulo 2^32.
  std::uint32_t now_ms() const {
    return static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - epoch_).count());
  }
  /// Coarse time in ticks, advanced by the sweep timer.
  std::uint32_t now_tick() const { return tick_; }

  void add(session* s);
  void remove(session* s);
  /// Strong references to every session, safe to act on while the list changes.
  std::vector<session_ref> snapshot();

  /// Starts the sweep timer; `idle_checks` says whether any listener has an
  /// idle timeout. The timer sleeps while the loop holds no session (an
  /// idle daemon makes no wake-ups) and the next session wakes it.
  void start_sweep(const std::atomic<bool>* idle_checks);
  /// Runs the loop on the calling thread until it runs out of work.
  void run();
  /// Runs the loop on a new thread (workers other than the first).
  void start_thread();
  /// The worker whose loop runs on this thread. Sessions only ever run on
  /// their own worker's thread, so they find it here instead of storing it.
  static worker& current();
  /// Lets run() return once the sessions are gone (stop).
  void release();
  void join();

  /// Writes `s`'s gathered output when this loop turn's ready completions
  /// have run: one write per client per turn, however many lines reached
  /// it (the first call of a turn posts the flush).
  void defer_flush(session* s);

  /// Frees `s`'s buffers at a tick once it is no longer busy and they are
  /// empty.
  void park_buffers(session* s) { parked_.emplace_back(s); }

  /// Adds `socket` to this loop's readiness set: `target` hears of its
  /// input and of room to send until the socket is closed, and must not
  /// wait on it through Asio any more. False where there is no set (the
  /// owner then waits through Asio).
  bool watch_socket(asio::ip::tcp::socket::native_handle_type socket, ready_target& target);

  /// Sessions with a pending deadline make the sweep look at every session.
  void add_deadline() { ++deadlines_; }
  void remove_deadline() { --deadlines_; }

 private:
  enum class sweep_state : std::uint8_t { not_started, armed, asleep };

  void arm_sweep();
  void on_tick();
  void flush_deferred();
  void dispatch_ready();
  void stop_waiting();

  unsigned index_;
  asio::io_context io_;
  asio::steady_timer timer_;
  platform::readiness_set ready_set_;
  bool ready_armed_ = false;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::unique_ptr<char[]> read_buffer_;
  std::string batch_output_;
  std::vector<session_ref> deferred_;
  std::vector<session_ref> flushing_;  // deferred_ of the turn being flushed (capacity reused)
  std::vector<session_ref> parked_;    // sessions whose drained buffers a tick may free
  std::vector<session_ref> reviewed_;  // parked_ of the tick under way (capacity reused)
  std::uint32_t tick_ = 1;
  sweep_state sweep_ = sweep_state::not_started;
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
  session* head_ = nullptr;
  std::size_t count_ = 0;
  std::size_t deadlines_ = 0;
  bool released_ = false;
  const std::atomic<bool>* idle_checks_ = nullptr;
  std::thread thread_;
};

}  // namespace plexd::core
