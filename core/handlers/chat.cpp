// chat: a line-based room. Every line goes to every other member; joins
// and leaves are announced; everyone gets a goodbye when the daemon stops.
//
// With several event-loop threads the room is split into one part per
// thread, each touched only by its own thread: a line is delivered to the
// local part directly and posted once to each other thread, so there is no
// lock on the fan-out path and each sender's lines stay in order.
#include <algorithm>
#include <string>
#include <vector>

#include "options_slot.hpp"
#include "registry.hpp"

namespace plexd::core {
namespace {

class chat_handler final : public handler, public std::enable_shared_from_this<chat_handler> {
 public:
  chat_handler(const config::chat_options& o, const handler_env& env)
      : options_(o), env_(env), parts_(std::max(1U, env.worker_count)) {}

  bool line_based() const override { return true; }

  void on_open(connection& c) override {
    auto o = options_.get();
    if (!o->welcome.empty()) c.send(o->welcome);
    part(c).members.push_back(&c);
    if (o->announce) broadcast(c, "* " + c.peer() + " joined\n");
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
    batch.clear();
  }

  void on_close(connection& c) override {
    auto& members = part(c).members;
    auto it = std::find(members.begin(), members.end(), &c);
    if (it == members.end()) return;
    *it = members.back();
    members.pop_back();
    if (options_.get()->announce) broadcast(c, "* " + c.peer() + " left\n");
  }

  void on_stop(connection& c) override { c.send(options_.get()->goodbye); }

  void update(const config::handler_options& options) override {
    options_.set(std::get<config::chat_options>(options));
  }

 private:
  struct room_part {
    std::vector<connection*> members;
    std::string batch;
  };

  room_part& part(const connection& c) { return parts_[c.worker_index() % parts_.size()]; }

  void broadcast(connection& from, const std::string& text) {
    for (connection* m : part(from).members) {
      if (m != &from) m->send(text);
    }
    if (parts_.size() == 1) return;
    auto shared = std::make_shared<const std::string>(text);
    for (unsigned w = 0; w < parts_.size(); ++w) {
      if (w == from.worker_index()) continue;
      env_.post(w, [self = shared_from_this(), shared, w] {
        for (connection* m : self->parts_[w].members) m->send(*shared);
      });
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
};
}  // namespace

std::shared_ptr<handler> make_chat(const config::chat_options& o, const handler_env& env) {
  return std::make_shared<chat_handler>(o, env);
}

}  // namespace plexd::core
