#include "redis_server.hpp"

#include <filesystem>
#include <thread>

#include "resp.hpp"

namespace plexd::test {
namespace {

constexpr const char* redis_binary = "/usr/bin/redis-server";
// Linux's numbers: redis-server only runs on the Linux side, and Windows
// headers do not define these signals.
constexpr int sig_stop = 19;
constexpr int sig_cont = 18;

std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

void flatten(const core::resp::value& v, std::string& out) {
  using core::resp::type;
  switch (v.kind) {
    case type::array:
      for (const auto& e : v.elements) flatten(e, out);
      return;
    case type::integer:
      out += std::to_string(v.integer) + "\n";
      return;
    case type::error:
      out += "ERR " + v.text + "\n";
      return;
    case type::null:
      out += "(nil)\n";
      return;
    default:
      out += v.text + "\n";
  }
}
}  // namespace

std::string redis_server::unavailable_reason() {
  if (running_under_wine()) return "a Windows build under Wine cannot start the Linux redis-server";
  std::error_code ec;
  if (!std::filesystem::exists(redis_binary, ec)) return "redis-server is not installed (bash .ci/install-deps)";
  return {};
}

redis_server::redis_server(std::string password) : password_(std::move(password)) {
  if (!unavailable_reason().empty()) return;
  port_ = free_port();
  start();
}

redis_server::~redis_server() {
  kill();
}

std::string redis_server::url() const {
  return "redis://" + (password_.empty() ? "" : ":" + password_ + "@") + "127.0.0.1:" + std::to_string(port_) + "/0";
}

bool redis_server::start() {
  if (proc_) return true;
  std::vector<std::string> args{"--port", std::to_string(port_), "--bind", "127.0.0.1", "--save",
                                "",       "--appendonly",        "no",     "--dir",     dir_.path()};
  if (!password_.empty()) args.insert(args.end(), {"--requirepass", password_});
  proc_ = std::make_unique<child_process>(redis_binary, args, dir_.file("redis.out"), dir_.file("redis.err"));
  for (int i = 0; i < 100; ++i) {
    if (answers()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

bool redis_server::answers() {
  auto reply = command({"PING"});
  return reply.find("PONG") != std::string::npos;
}

void redis_server::pause() {
  if (proc_) proc_->send_signal(sig_stop);
}

void redis_server::resume() {
  if (proc_) proc_->send_signal(sig_cont);
}

void redis_server::kill() {
  if (!proc_) return;
  proc_->send_signal(sig_cont);  // a stopped process would not die before it runs again
  proc_->kill();
  proc_->wait_for(5s);
  proc_.reset();
}

std::string redis_server::command(const std::vector<std::string>& args) {
  client c;
  if (!c.connect(port_, 2s)) return "ERR cannot connect";
  std::string out;
  if (!password_.empty()) core::resp::encode(out, {"AUTH", password_});
  std::vector<std::string_view> views(args.begin(), args.end());
  core::resp::encode(out, views);
  c.send(out);
  core::resp::parser p;
  core::resp::value v;
  for (int replies = password_.empty() ? 1 : 2; replies > 0;) {
    const auto r = p.next(v);
    if (r == core::resp::result::value) {
      --replies;
      continue;
    }
    if (r == core::resp::result::error) return "ERR bad reply";
    auto more = c.read_some(2s);
    if (more.empty()) return "ERR no reply";
    p.feed(more);
  }
  std::string text;
  flatten(v, text);
  return text;
}

}  // namespace plexd::test
