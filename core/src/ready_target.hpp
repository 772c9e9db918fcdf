// What a worker's readiness set reports to: a socket owner that reads
// when told its socket received something and writes again when told it
// has room (see plexd/platform/readiness.hpp).
#pragma once

#include <cstdint>

#include "plexd/platform/readiness.hpp"

namespace plexd::core {

class ready_target {
 public:
  /// Input, end of input or an error reached the socket, or room to send.
  virtual void on_ready(platform::input_state input, platform::output_state output) = 0;
  /// Keep alive / let go: a batch of reports holds every target it names
  /// while any of them is handled, since handling one may close another.
  virtual void retain_target() = 0;
  virtual void release_target() = 0;

 protected:
  ready_target() = default;
  ~ready_target() = default;
  ready_target(const ready_target&) = default;
  ready_target& operator=(const ready_target&) = default;
  ready_target(ready_target&&) = default;
  ready_target& operator=(ready_target&&) = default;
};

/// What an owner must remember to read a socket the set reports by edges:
/// a report comes once per arrival, so input a wake-up left unread gets no
/// second one. Owners without a set (Windows, the select build) wait
/// through Asio and only the first answer of next_wait() matters to them.
class edge_input {
 public:
  enum class wait_by {
    asio,       // not in a set: an Asio wait per read
    next_turn,  // input may be left: read again on the loop's next turn
    report,     // wait for the set's report; the owner holds a reference for it
    nothing,    // already waiting for a report
  };

  void watch(bool in_set) { watched_ = in_set; }

  wait_by next_wait() {
    if (!watched_) return wait_by::asio;
    if (unread_) return wait_by::next_turn;
    if (waiting_) return wait_by::nothing;
    waiting_ = true;
    return wait_by::report;
  }

  /// A report arrived. True if the owner was waiting for it: it lets go of
  /// the wait's reference and reads now. Otherwise (reading, paused,
  /// closing) its next read finds the input.
  bool reported(platform::input_state input) {
    if (input == platform::input_state::none) return false;
    if (reports_ < busy_after) ++reports_;
    unread_ = true;
    if (input == platform::input_state::ending) ending_ = true;
    return stop();
  }

  /// A read wake-up begins: until a read shows the socket drained, input
  /// may be left (the wake-up may stop early: a pause, the read limit).
  void reading() { unread_ = true; }
  /// The socket had nothing more (EAGAIN).
  void drained() { unread_ = false; }
  /// A read returned less than asked. That drains the socket, unless the
  /// set reported end of input or an error with it: read on until it shows.
  bool short_read_drained() {
    if (ending_) return false;
    unread_ = false;
    return true;
  }
  /// The owner stops reading for good; true if it held a reference for a wait.
  bool stop() {
    const bool was = waiting_;
    waiting_ = false;
    return was;
  }
  /// True once, at the report that shows the socket carries more than one
  /// exchange: time for the owner to have it heard by the set alone
  /// (platform::leave_reactor: a system call, for a socket that joined
  /// Asio's reactor for a wait). A short connection (a request, an answer,
  /// a FIN) never gets there and saves that call.
  bool became_busy() {
    if (reports_ != busy_after || settled_) return false;
    settled_ = true;
    return true;
  }

 private:
  static constexpr std::uint8_t busy_after = 3;  // input reports

  bool watched_ : 1 = false;      // in the loop's readiness set
  bool waiting_ : 1 = false;      // waiting for the set's report
  bool unread_ : 1 = false;       // input may be waiting that no report will announce
  bool ending_ : 1 = false;       // the set reported end of input or an error
  bool settled_ : 1 = false;      // became_busy() said so
  std::uint8_t reports_ : 2 = 0;  // input reports so far, up to busy_after
};

/// The same for output. The set reports room once per change, and the
/// kernel announces room only after a write was refused: so an owner waits
/// for a report only when a write was refused since the last one, and
/// otherwise simply writes again.
class edge_output {
 public:
  enum class wait_by {
    asio,       // not in a set: an Asio wait
    next_turn,  // room was reported since the last refusal: write on the loop's next turn
    report,     // wait for the set's report; the owner holds a reference for it
  };

  void watch(bool in_set) { watched_ = in_set; }

  /// A write took less than offered: the kernel reports when room opens.
  void refused() { room_ = false; }

  wait_by next_wait() {
    if (!watched_) return wait_by::asio;
    if (room_) return wait_by::next_turn;
    waiting_ = true;
    return wait_by::report;
  }

  /// A report arrived. True if the owner was waiting for it: it lets go of
  /// the wait's reference and writes now.
  bool reported(platform::output_state output) {
    if (output == platform::output_state::unchanged) return false;
    room_ = true;
    return stop();
  }
  /// The owner stops writing for good; true if it held a reference for a wait.
  bool stop() {
    const bool was = waiting_;
    waiting_ = false;
    return was;
  }

 private:
  bool watched_ : 1 = false;  // in the loop's readiness set
  bool waiting_ : 1 = false;  // waiting for the set's report
  bool room_ : 1 = true;      // no write was refused since the last report
};

}  // namespace plexd::core
