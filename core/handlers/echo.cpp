// echo: reply with what was received, raw chunks or whole lines, with an
// optional prefix and suffix around each.
#include <string>

#include "options_slot.hpp"
#include "registry.hpp"

namespace plexd::core {
namespace {

class echo_handler final : public handler {
 public:
  explicit echo_handler(const config::echo_options& o) : options_(o), line_(o.framing_mode == config::framing::line) {}

  bool line_based() const override { return line_; }

  void on_data(connection& c, std::string_view data) override {
    auto o = options_.get();
    if (o->prefix.empty() && o->suffix.empty()) {
      c.send(data);  // the hot path: no copy, no allocation
      return;
    }
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
    // Framing is fixed for the listener's lifetime: a reload that changes
    // it changes nothing for connections already mid-stream.
    options_.set(std::get<config::echo_options>(options));
  }

 private:
  options_slot<config::echo_options> options_;
  const bool line_;
};
}  // namespace

std::shared_ptr<handler> make_echo(const config::echo_options& o, const handler_env&) {
  return std::make_shared<echo_handler>(o);
}

}  // namespace plexd::core
