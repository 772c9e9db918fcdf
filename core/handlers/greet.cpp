// greet: send a banner and close, or (await_reply) read one message first.
#include <spdlog/spdlog.h>

#include "options_slot.hpp"
#include "registry.hpp"

namespace plexd::core {
namespace {

class greet_handler final : public handler {
 public:
  explicit greet_handler(const config::greet_options& o) : options_(o) {}

  bool line_based() const override { return false; }

  void on_open(connection& c) override {
    auto o = options_.get();
    c.send(o->message);
    if (!o->await_reply) c.close_after_flush();
  }

  void on_data(connection& c, std::string_view data) override {
    // One message = whatever the first read brought (a line or less).
    std::string_view reply = data.substr(0, data.find('\n'));
    if (!reply.empty() && reply.back() == '\r') reply.remove_suffix(1);
    spdlog::info("listener {}: {} replied: {}", c.listener_name(), c.peer(), printable(reply));
    c.close_after_flush();
  }

  void update(const config::handler_options& options) override {
    options_.set(std::get<config::greet_options>(options));
  }

 private:
  // Client text goes into the log: keep control bytes and long junk out.
  static std::string printable(std::string_view s) {
    std::string out;
    for (char ch : s.substr(0, 200)) {
      const auto u = static_cast<unsigned char>(ch);
      out += (u >= 0x20 && u < 0x7f) ? ch : '?';
    }
    if (s.size() > 200) out += "...";
    return out;
  }

  options_slot<config::greet_options> options_;
};
}  // namespace

std::shared_ptr<handler> make_greet(const config::greet_options& o, const handler_env&) {
  return std::make_shared<greet_handler>(o);
}

}  // namespace plexd::core
