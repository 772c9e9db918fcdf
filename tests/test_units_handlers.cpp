// Unit tests of the handlers against a fake connection: what each hook
// sends, to whom, and when it closes. No sockets: the session's part
// (framing, queues, limits) is covered by the integration tests.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "plexd/core/handler.hpp"

using namespace plexd;

namespace {
class fake_connection final : public core::connection {
 public:
  explicit fake_connection(std::string peer) : peer_(std::move(peer)) {}
  void send(std::string_view data) override { sent.append(data); }
  void send_now(std::string_view data) override { sent.append(data); }
  void close_after_flush() override { closed = true; }
  const std::string& peer() const override { return peer_; }
  asio::ip::tcp::endpoint peer_endpoint() const override { return {}; }
  asio::ip::tcp::endpoint local_endpoint() const override { return {}; }
  const std::string& listener_name() const override { return listener_; }
  unsigned worker_index() const override { return 0; }
  std::size_t queued() const override { return 0; }
  std::size_t max_output() const override { return std::size_t{1} << 20; }
  void pause_reading() override { paused = true; }
  void resume_reading() override { paused = false; }
  void attach(std::unique_ptr<core::connection_state> state) override { state_ = std::move(state); }
  core::connection_state* attached() const override { return state_.get(); }
  void retain() override {}
  void release() override {}
  void shutdown_send() override {}
  void close_now(core::close_kind /*how*/) override { closed = true; }
  void close_within(std::chrono::milliseconds /*after*/) override {}

  std::string sent;
  bool closed = false;
  bool paused = false;

 private:
  std::string peer_;
  std::string listener_ = "test";
  std::unique_ptr<core::connection_state> state_;
};

std::shared_ptr<core::handler> make(config::handler_options options) {
  config::listener_config cfg;
  cfg.name = "test";
  cfg.handler = std::string(config::handler_name(options));
  cfg.options = std::move(options);
  core::handler_env env;
  env.post = [](unsigned, std::function<void()> fn) { fn(); };
  return core::make_handler(cfg, env);
}
}  // namespace

TEST_CASE("echo: raw chunks and lines with prefix and suffix", "[handlers][unit]") {
  config::echo_options raw;
  raw.prefix = "<";
  raw.suffix = ">";
  auto h = make(raw);
  fake_connection c("127.0.0.1:1");
  CHECK_FALSE(h->line_based());
  h->on_data(c, "abc\n");
  CHECK(c.sent == "<abc\n>");

  config::echo_options line = raw;
  line.framing_mode = config::framing::line;
  auto hl = make(line);
  fake_connection d("127.0.0.1:2");
  CHECK(hl->line_based());
  hl->on_line(d, "abc");
  CHECK(d.sent == "<abc>\n");
  CHECK_FALSE(d.closed);
}

TEST_CASE("greet: banner, then close at once or after one reply", "[handlers][unit]") {
  config::greet_options o;
  o.message = "Hi\n";
  auto h = make(o);
  fake_connection c("127.0.0.1:1");
  h->on_open(c);
  CHECK(c.sent == "Hi\n");
  CHECK(c.closed);

  o.await_reply = true;
  auto hw = make(o);
  fake_connection d("127.0.0.1:2");
  hw->on_open(d);
  CHECK_FALSE(d.closed);
  hw->on_data(d, "name\r\nmore");
  CHECK(d.closed);
}

TEST_CASE("chat: lines go to every other member, with notices", "[handlers][unit]") {
  config::chat_options o;
  o.welcome = "welcome\n";
  auto h = make(o);
  fake_connection a("10.0.0.1:1");
  fake_connection b("10.0.0.2:2");
  h->on_open(a);
  h->on_open(b);
  CHECK(a.sent == "welcome\n* 10.0.0.2:2 joined\n");
  CHECK(b.sent == "welcome\n");
  a.sent.clear();
  b.sent.clear();
  h->on_line(a, "hello");
  h->on_line(a, "");
  h->on_batch_end(a);
  CHECK(a.sent.empty());
  CHECK(b.sent == "10.0.0.1:1: hello\n10.0.0.1:1: \n");
  b.sent.clear();
  h->on_stop(b);
  CHECK(b.sent == "Shutdown Server\n");
  h->on_close(a);
  CHECK(b.sent == "Shutdown Server\n* 10.0.0.1:1 left\n");
}

TEST_CASE("chat: a reload's new format applies to the next line", "[handlers][unit]") {
  auto h = make(config::chat_options{});
  fake_connection a("10.0.0.1:1");
  fake_connection b("10.0.0.2:2");
  h->on_open(a);
  h->on_open(b);
  b.sent.clear();
  config::chat_options next;
  next.format = "[{peer}] {line}";
  next.announce = false;
  h->update(next);
  h->on_line(a, "x");
  h->on_batch_end(a);
  CHECK(b.sent == "[10.0.0.1:1] x\n");
  h->on_close(a);
  CHECK(b.sent == "[10.0.0.1:1] x\n");
}
