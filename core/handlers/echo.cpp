// echo: reply with what was received, raw chunks or whole lines, with an
// optional prefix and suffix around each.
#include <atomic>
#include <string>

#include "options_slot.hpp"
#include "registry.hpp"

namespace plexd::core {
namespace {

class echo_handler final : public handler {
 public:
  explicit echo_handler(const config::echo_options& o)
      : options_(o), plain_(o.prefix.empty() && o.suffix.empty()), line_(o.framing_mode == config::framing::line) {}

  // Asked when a connection opens: a reload's framing applies to new
  // connections, while each open one keeps the framing it started with.
  bool line_based() const override { return line_.load(std::memory_order_relaxed); }

  void on_data(connection& c, std::string_view data) override {
    if (plain_.load(std::memory_order_relaxed)) {
      c.send(data);  // the hot path: no copy, no allocation, no options load
      return;
    }
    auto o = options_.get();
    c.send(o->prefix);
    c.send(data);
    c.send(o->suffix);
  }

  void on_line(connection& c, std::string_view line) override {
    auto o = options_.get();
    c.send(o->prefix);
    c.send(line);
    c.send(o->suffix);
    c.send("\n");
  }

  void update(const config::handler_options& options) override {
    const auto& o = std::get<config::echo_options>(options);
    options_.set(o);
    plain_ = o.prefix.empty() && o.suffix.empty();
    line_ = o.framing_mode == config::framing::line;
  }

 private:
  options_slot<config::echo_options> options_;
  std::atomic<bool> plain_;  // no prefix and no suffix: echo the bytes as they are
  std::atomic<bool> line_;
};
}  // namespace

std::shared_ptr<handler> make_echo(const config::echo_options& o, const handler_env&) {
  return std::make_shared<echo_handler>(o);
}

}  // namespace plexd::core
