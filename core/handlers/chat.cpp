// chat: a line-based room. Every line goes to every other member; joins
// and leaves are announced; everyone gets a goodbye when the daemon stops.
//
// With several event-loop threads the room is split into one part per
// thread, each touched only by its own thread: a line is delivered to the
// local part directly and posted once to each other thread, so there is no
// lock on the fan-out path and each sender's lines stay in order.
//
// A chat with a `room` also publishes every line and notice to the
// backplane after serving its local members, and lines from other
// instances come back through the same per-thread fan-out.
#include <algorithm>
#include <string>
#include <vector>

#include "options_slot.hpp"
#include "registry.hpp"

namespace plexd::core {
namespace {

class chat_handler final : public handler, public room_member, public std::enable_shared_from_this<chat_handler> {
 public:
  chat_handler(const config::chat_options& o, const handler_env& env)
      : options_(o), env_(env), parts_(std::max(1U, env.worker_count)) {}
  ~chat_handler() override { leave_room(); }

  bool line_based() const override { return true; }

  void on_open(connection& c) override {
    auto o = options_.get();
    if (!o->welcome.empty()) c.send(o->welcome);
    part(c).members.push_back(&c);
    if (o->announce) broadcast(c, "* " + c.peer() + " joined\n");
    if (o->announce) publish(c, "* " + c.peer() + " joined\n", sender::stays);
  }

  void on_line(connection& c, std::string_view line) override {
    // Gathered: all lines of one read go out as one write per member.
    auto o = options_.get();
    std::string& batch = part(c).batch;
    format_line(batch, o->format, c.peer(), line);
    batch += '\n';
  }

  void on_batch_end(connection& c) override {
    std::string& batch = part(c).batch;
    if (batch.empty()) return;
    // send() never re-enters a handler (a failing member is closed later),
    // so the batch can be sent from in place and reused.
    broadcast(c, batch);
    publish(c, batch, sender::stays);
    batch.clear();
  }

  void on_close(connection& c) override {
    auto& members = part(c).members;
    auto it = std::find(members.begin(), members.end(), &c);
    if (it == members.end()) return;
    *it = members.back();
    members.pop_back();
    std::erase(part(c).paused, &c);
    if (options_.get()->announce) {
      broadcast(c, "* " + c.peer() + " left\n");
      publish(c, "* " + c.peer() + " left\n", sender::leaving);
    }
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

  void deliver(std::shared_ptr<const std::string> text) override {
    for (unsigned w = 0; w < parts_.size(); ++w) post_to_part(w, text);
  }

  void publish_unblocked() override {
    for (unsigned w = 0; w < parts_.size(); ++w) {
      env_.post(w, [self = shared_from_this(), w] {
        auto paused = std::move(self->parts_[w].paused);
        for (connection* c : paused) c->resume_reading();
      });
    }
  }

 private:
  struct room_part {
    std::vector<connection*> members;
    std::string batch;
    std::vector<connection*> paused;  // senders held back by a full backplane queue
  };

  void leave_room() {
    if (membership_ != 0) env_.rooms->leave(membership_);
    membership_ = 0;
    room_.clear();
  }

  // Local members were served first; now the other instances.
  enum class sender { stays, leaving };
  void publish(connection& from, const std::string& text, sender who) {
    if (!env_.rooms) return;
    auto o = options_.get();
    if (o->room.empty()) return;
    if (env_.rooms->publish(o->room, text) == publish_pressure::pause_sender && who == sender::stays) {
      from.pause_reading();
      part(from).paused.push_back(&from);
    }
  }

  void post_to_part(unsigned w, std::shared_ptr<const std::string> text) {
    env_.post(w, [self = shared_from_this(), text, w] {
      for (connection* m : self->parts_[w].members) m->send(*text);
    });
  }

  room_part& part(const connection& c) { return parts_[c.worker_index() % parts_.size()]; }

  void broadcast(connection& from, const std::string& text) {
    for (connection* m : part(from).members) {
      if (m != &from) m->send(text);
    }
    if (parts_.size() == 1) return;
    auto shared = std::make_shared<const std::string>(text);
    for (unsigned w = 0; w < parts_.size(); ++w) {
      if (w != from.worker_index()) post_to_part(w, shared);
    }
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
  std::vector<room_part> parts_;
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
