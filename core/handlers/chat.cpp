// chat: a line-based room. Every line goes to every other member; joins
// and leaves are announced; everyone gets a goodbye when the daemon stops.
//
// With several event-loop threads the room is split into one part per
// thread, each touched only by its own thread: a line is delivered to the
// local part directly and posted once to each other thread, so there is no
// lock on the fan-out path and each sender's lines stay in order. Every
// line, local or posted, reaches a part's members through deliver_local().
//
// Flow control: a member whose queue passes half of max_output is
// "congested"; a sender whose lines would go to a congested room stops
// being read (TCP slows it down) until the room drains, and moves on by
// one chunk per sweep tick meanwhile, so a member that never reads fills
// its queue past max_output and is disconnected instead of stalling the
// room. Input is never dropped: what a paused sender already sent waits in
// its session. A member's queue stays within max_output (its session
// disconnects it beyond), so memory stays within members x max_output.
//
// A chat with a `room` also publishes every line and notice to the
// backplane after serving its local members; lines from other instances
// enter through deliver_posted() like lines from another thread's part.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "options_slot.hpp"
#include "registry.hpp"

namespace plexd::core {
namespace {

using clock_type = std::chrono::steady_clock;

// A sender's lines are handed to the room in chunks of at most this size,
// and the room's congestion is checked after each.
constexpr std::size_t max_chunk = 16384;

struct line_bucket {
  double tokens = 0;
  clock_type::time_point at;
};

struct room_part {
  std::vector<connection*> members;
  std::string batch;                                           // lines of the read being handled
  std::vector<connection*> congested;                          // members over the high-water mark
  std::vector<connection*> waiting;                            // senders paused until the room drains
  std::vector<connection*> forced;                             // senders resumed by the tick despite congestion
  std::unordered_map<const connection*, line_bucket> buckets;  // line_rate state
  std::vector<connection*> bus_paused;                         // senders held back by a full backplane queue
  // Read by the other threads' senders.
  std::atomic<std::size_t> congested_count{0};
  std::atomic<std::size_t> inflight{0};  // bytes posted to this part, not delivered yet
};

template <typename T>
bool erase_one(std::vector<T>& v, const T& x) {
  auto it = std::find(v.begin(), v.end(), x);
  if (it == v.end()) return false;
  *it = v.back();
  v.pop_back();
  return true;
}

class chat_handler final : public handler, public room_member, public std::enable_shared_from_this<chat_handler> {
 public:
  chat_handler(const config::chat_options& o, const handler_env& env)
      : options_(o), env_(env), count_(std::max(1U, env.worker_count)), parts_(std::make_unique<room_part[]>(count_)) {}
  ~chat_handler() override { leave_room(); }
  chat_handler(const chat_handler&) = delete;
  chat_handler& operator=(const chat_handler&) = delete;
  chat_handler(chat_handler&&) = delete;
  chat_handler& operator=(chat_handler&&) = delete;

  bool line_based() const override { return true; }

  void on_open(connection& c) override {
    auto o = options_.get();
    if (!o->welcome.empty()) c.send(o->welcome);
    part(c).members.push_back(&c);
    high_water_.store(std::max<std::size_t>(1, c.max_output() / 2), std::memory_order_relaxed);
    if (o->announce) announce(c, "* " + c.peer() + " joined\n", sender::stays);
  }

  void on_line(connection& c, std::string_view line) override {
    auto o = options_.get();
    room_part& p = part(c);
    // A sender arriving at a congested room hands over one line, not a
    // chunk; one resumed by the sweep tick gets its chunk.
    const bool first = p.batch.empty();
    const bool forced = first && !p.forced.empty() && erase_one(p.forced, &c);
    format_line(p.batch, o->format, c.peer(), line);
    p.batch += '\n';
    if (o->line_rate > 0 && !take_token(p, c, *o)) c.pause_reading();
    const std::size_t chunk = std::clamp<std::size_t>(c.max_output() / 8, 1, max_chunk);
    if (p.batch.size() >= chunk || (first && !forced && room_congested())) hand_over(c, p);
  }

  void on_batch_end(connection& c) override {
    room_part& p = part(c);
    if (!p.batch.empty()) hand_over(c, p);
  }

  void on_drained(connection& c) override {
    room_part& p = part(c);
    if (p.congested.empty() || !erase_one(p.congested, &c)) return;
    if (p.congested_count.fetch_sub(1, std::memory_order_relaxed) == 1) wake_all(c.worker_index());
  }

  void on_paused_tick(connection& c) override {
    room_part& p = part(c);
    auto o = options_.get();
    if (o->line_rate > 0 && !has_token(p, c, *o)) return;
    // Still congested or not: one more chunk per tick, so a member that
    // never drains reaches max_output rather than holding the room.
    erase_one(p.waiting, &c);
    if (std::find(p.forced.begin(), p.forced.end(), &c) == p.forced.end()) p.forced.push_back(&c);
    c.resume_reading();
  }

  void on_close(connection& c) override {
    room_part& p = part(c);
    if (!erase_one(p.members, &c)) return;
    erase_one(p.waiting, &c);
    erase_one(p.forced, &c);
    p.buckets.erase(&c);
    erase_one(p.bus_paused, &c);
    if (erase_one(p.congested, &c) && p.congested_count.fetch_sub(1, std::memory_order_relaxed) == 1) {
      wake_all(c.worker_index());
    }
    if (options_.get()->announce) announce(c, "* " + c.peer() + " left\n", sender::leaving);
  }

  void on_stop(connection& c) override { c.send(options_.get()->goodbye); }

  void update(const config::handler_options& options) override {
    options_.set(std::get<config::chat_options>(options));
    join_room();
  }

  // Shared rooms (main loop). Membership follows the `room` option, so a
  // reload can move a listener between rooms without touching its clients.
  void join_room() {
    const auto& room = options_.get()->room;
    if (!env_.rooms || room == room_) return;
    leave_room();
    room_ = room;
    if (!room_.empty()) membership_ = env_.rooms->join(room_, weak_from_this());
  }

  // room_member: lines from other instances, through each part's fan-out.
  void deliver(std::shared_ptr<const std::string> text) override {
    for (unsigned w = 0; w < count_; ++w) {
      parts_[w].inflight.fetch_add(text->size(), std::memory_order_relaxed);
      env_.post(w, [self = shared_from_this(), text, w] { self->deliver_posted(w, *text); });
    }
  }

  void publish_unblocked() override {
    for (unsigned w = 0; w < count_; ++w) {
      env_.post(w, [self = shared_from_this(), w] {
        auto paused = std::move(self->parts_[w].bus_paused);
        self->parts_[w].bus_paused.clear();
        for (connection* c : paused) c->resume_reading();
      });
    }
  }

 private:
  enum class sender { stays, leaving };

  void leave_room() {
    if (membership_ != 0) env_.rooms->leave(membership_);
    membership_ = 0;
    room_.clear();
  }

  void announce(connection& c, const std::string& text, sender who) {
    deliver(c, text);
    publish(c, text, who);
  }

  // Local members were served first; now the other instances.
  void publish(connection& from, const std::string& text, sender who) {
    if (!env_.rooms) return;
    auto o = options_.get();
    if (o->room.empty()) return;
    if (env_.rooms->publish(o->room, text) == publish_pressure::pause_sender && who == sender::stays) {
      from.pause_reading();
      part(from).bus_paused.push_back(&from);
    }
  }

  room_part& part(const connection& c) { return parts_[c.worker_index() % count_]; }
  std::size_t high_water() const { return high_water_.load(std::memory_order_relaxed); }

  /// Sends a sender's gathered lines to the room, then pauses the sender
  /// if the room cannot take more for now.
  void hand_over(connection& c, room_part& p) {
    deliver(c, p.batch);
    publish(c, p.batch, sender::stays);
    p.batch.clear();
    if (!room_congested()) return;
    c.pause_reading();
    if (std::find(p.waiting.begin(), p.waiting.end(), &c) == p.waiting.end()) p.waiting.push_back(&c);
  }

  void deliver(connection& from, const std::string& text) {
    deliver_local(part(from), &from, text);
    if (count_ == 1) return;
    auto shared = std::make_shared<const std::string>(text);
    for (unsigned w = 0; w < count_; ++w) {
      if (w == from.worker_index()) continue;
      parts_[w].inflight.fetch_add(text.size(), std::memory_order_relaxed);
      env_.post(w, [self = shared_from_this(), shared, w] { self->deliver_posted(w, *shared); });
    }
  }

  /// Text from another thread's part of the room (and the place where text
  /// from anywhere else would enter).
  void deliver_posted(unsigned w, const std::string& text) {
    room_part& p = parts_[w];
    deliver_local(p, nullptr, text);
    const std::size_t before = p.inflight.fetch_sub(text.size(), std::memory_order_relaxed);
    if (before >= high_water() && before - text.size() < high_water()) wake_all(w);
  }

  /// The fan-out: every member of one part but the sender gets the text
  /// (gathered by its session until the loop turn ends).
  void deliver_local(room_part& p, const connection* from, const std::string& text) {
    const std::size_t hw = high_water();
    for (connection* m : p.members) {
      if (m == from) continue;
      m->send(text);
      if (m->queued() >= hw && std::find(p.congested.begin(), p.congested.end(), m) == p.congested.end()) {
        p.congested.push_back(m);
        p.congested_count.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }

  bool room_congested() const {
    const std::size_t hw = high_water();
    for (unsigned w = 0; w < count_; ++w) {
      const room_part& p = parts_[w];
      if (p.congested_count.load(std::memory_order_relaxed) > 0 || p.inflight.load(std::memory_order_relaxed) >= hw)
        return true;
    }
    return false;
  }

  /// Resumes the paused senders of every part (each re-checks the room).
  void wake_all(unsigned here) {
    wake_part(here);
    for (unsigned w = 0; w < count_; ++w) {
      if (w != here) env_.post(w, [self = shared_from_this(), w] { self->wake_part(w); });
    }
  }

  void wake_part(unsigned w) {
    room_part& p = parts_[w];
    if (p.waiting.empty()) return;
    auto o = options_.get();
    std::vector<connection*> waiting;
    waiting.swap(p.waiting);
    for (connection* c : waiting) {
      if (o->line_rate > 0 && !has_token(p, *c, *o)) continue;  // its tick resumes it
      c->resume_reading();
    }
  }

  static double burst_of(const config::chat_options& o) {
    return o.line_burst > 0 ? o.line_burst : std::max(1.0, o.line_rate);
  }

  /// Refills the sender's bucket; true if it may send another line.
  static bool has_token(room_part& p, const connection& c, const config::chat_options& o) {
    const auto now = clock_type::now();
    auto [it, fresh] = p.buckets.try_emplace(&c, line_bucket{burst_of(o), now});
    line_bucket& b = it->second;
    if (!fresh) {
      const double elapsed = std::chrono::duration<double>(now - b.at).count();
      b.tokens = std::min(burst_of(o), b.tokens + elapsed * o.line_rate);
      b.at = now;
    }
    return b.tokens >= 1;
  }

  /// Charges one line; false once the sender has to wait for the next.
  static bool take_token(room_part& p, const connection& c, const config::chat_options& o) {
    has_token(p, c, o);
    line_bucket& b = p.buckets[&c];
    b.tokens -= 1;
    return b.tokens >= 1;
  }

  static void format_line(std::string& out, const std::string& format, std::string_view peer, std::string_view line) {
    for (std::size_t i = 0; i < format.size();) {
      if (format.compare(i, 6, "{peer}") == 0) {
        out += peer;
        i += 6;
      } else if (format.compare(i, 6, "{line}") == 0) {
        out += line;
        i += 6;
      } else {
        out += format[i++];
      }
    }
  }

  options_slot<config::chat_options> options_;
  handler_env env_;
  unsigned count_;
  std::unique_ptr<room_part[]> parts_;
  std::atomic<std::size_t> high_water_{std::size_t{1} << 19};
  std::string room_;  // the shared room joined (main loop only)
  std::uint64_t membership_ = 0;
};
}  // namespace

std::shared_ptr<handler> make_chat(const config::chat_options& o, const handler_env& env) {
  auto h = std::make_shared<chat_handler>(o, env);
  h->join_room();
  return h;
}

}  // namespace plexd::core
