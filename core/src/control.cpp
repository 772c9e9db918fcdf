#include "plexd/core/control.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>

#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include "plexd/platform/control_transport.hpp"

namespace plexd::core {

std::string iso_time(std::chrono::system_clock::time_point t) {
  // The C++20 calendar: thread-safe and the same on every system (no gmtime_r/gmtime_s).
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return buf;
}

json::value record_json(const log_record& r) {
  static const char* const names[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  return json::object{
      {"seq", r.seq}, {"time", iso_time(r.time)}, {"level", names[static_cast<int>(r.level)]}, {"text", r.text}};
}

namespace {
std::string reply_error(const std::string& message) {
  return json::value(json::object{{"v", control_protocol_version}, {"ok", false}, {"error", message}}).dump();
}
}  // namespace

control_reply handle_control_request(std::string_view line, const control_callbacks& cb) {
  // Not JSON, or no command: not a control client (an HTTP request from a
  // browser, a port scanner). The connection closes after the error, so
  // nothing that follows in the same stream is ever run.
  const auto malformed = [](const std::string& why) {
    return control_reply{reply_error("malformed request: " + why), reply_action::close};
  };
  auto parsed = json::parse(line);
  if (!parsed.ok()) return malformed(parsed.error());
  const auto& req = *parsed;
  if (!req.is_object()) return malformed("expected a JSON object");
  const double v = req["v"].as_number(-1);
  if (v != control_protocol_version) {
    return {reply_error("unsupported protocol version (this daemon speaks v" +
                        std::to_string(control_protocol_version) + ")")};
  }
  const std::string& cmd = req["cmd"].as_string();
  json::object reply{{"v", control_protocol_version}, {"ok", true}};
  auto action = reply_action::answer;
  if (cmd == "ping") {
    reply["version"] = cb.version;
  } else if (cmd == "status") {
    reply["status"] = cb.status();
  } else if (cmd == "reload") {
    auto result = cb.reload();
    reply["ok"] = result["ok"].as_bool();
    reply["reload"] = std::move(result);
  } else if (cmd == "logs") {
    const double n = req["n"].as_number(100);
    if (n < 0 || n > 1e9) return {reply_error("'n' must be a non-negative number")};
    json::array records;
    if (cb.logs) {
      for (const auto& r : cb.logs->last(static_cast<std::size_t>(n))) records.push_back(record_json(r));
    }
    reply["records"] = std::move(records);
    if (req["follow"].as_bool(false)) action = reply_action::follow;
  } else if (cmd.empty()) {
    return malformed("missing \"cmd\"");
  } else {
    return {reply_error("unknown command '" + cmd + "' (known: ping, status, logs, reload)")};
  }
  return {json::value(std::move(reply)).dump(), action};
}

// One control client: reads request lines, writes replies in order.
class control_server::client : public std::enable_shared_from_this<client> {
 public:
  client(asio::io_context& io, std::shared_ptr<platform::control_stream> s, std::shared_ptr<control_callbacks> cb)
      : io_(io), stream_(std::move(s)), shared_cb_(std::move(cb)), own_cb_(*shared_cb_) {
    // Reload lines that arrive before the answer to an earlier one was
    // sent (pipelined) share that one reload: a burst of them must not
    // re-read and re-apply the config once per line.
    own_cb_.reload = [memo = memo_, reload = shared_cb_->reload] {
      if (!memo->reload) memo->reload = reload();
      return *memo->reload;
    };
  }

  void start() { do_read(); }

  /// Neither following the log nor owed a reply: the one to drop first.
  bool idle() const { return state_ == client_state::open && follow_id_ == 0 && out_.empty(); }

  void write(std::string line) {
    if (state_ == client_state::open) queue(std::move(line));
  }

  /// Sends a last error reply, then closes; reads nothing more.
  void reject(std::string line) {
    if (state_ != client_state::open) return;
    state_ = client_state::closing;
    queue(std::move(line));
  }

  void stop() {
    if (state_ == client_state::closed) return;
    state_ = client_state::closed;
    if (follow_id_ != 0 && shared_cb_->logs) shared_cb_->logs->unsubscribe(follow_id_);
    follow_id_ = 0;
    stream_->close();
  }

 private:
  enum class client_state { open, closing, closed };
  struct reload_memo {
    std::optional<json::value> reload;
  };

  void queue(std::string line) {
    queued_ += line.size() + 1;
    if (queued_ > std::size_t{4} * 1024 * 1024) {  // a follower that does not read
      stop();
      return;
    }
    out_.push_back(std::move(line) + "\n");
    if (out_.size() == 1) do_write();
  }

  void do_read() {
    stream_->async_read_some(asio::buffer(buf_),
                             [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                               if (ec) {
                                 self->stop();
                                 return;
                               }
                               if (self->state_ == client_state::open) self->on_data(n);
                             });
  }

  void on_data(std::size_t n) {
    line_.append(buf_.data(), n);
    std::size_t nl = 0;
    while (state_ == client_state::open && (nl = line_.find('\n')) != std::string::npos) {
      std::string request = line_.substr(0, nl);
      line_.erase(0, nl + 1);
      if (!request.empty() && request.back() == '\r') request.pop_back();
      if (request.empty()) continue;
      auto reply = handle_control_request(request, own_cb_);
      if (reply.action == reply_action::close) {
        reject(std::move(reply.line));
        return;
      }
      write(std::move(reply.line));
      if (reply.action == reply_action::follow) start_follow();
    }
    if (line_.size() > max_request) {
      reject(reply_error("request too large (limit " + std::to_string(max_request) + " bytes)"));
      line_.clear();
      return;
    }
    if (state_ == client_state::open) do_read();
  }

  void start_follow() {
    if (follow_id_ != 0 || !shared_cb_->logs) return;
    std::weak_ptr<client> weak = shared_from_this();
    asio::io_context& io = io_;
    follow_id_ = shared_cb_->logs->subscribe([weak, &io](const log_record& r) {
      // Runs under the ring's lock on any thread: only hand the record on.
      asio::post(io, [weak, r] {
        if (auto self = weak.lock()) {
          self->write(json::value(json::object{{"v", control_protocol_version}, {"record", record_json(r)}}).dump());
        }
      });
    });
  }

  void do_write() {
    stream_->async_write(asio::buffer(out_.front()),
                         [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                           if (ec) {
                             self->stop();
                             return;
                           }
                           self->queued_ -= self->out_.front().size();
                           self->out_.pop_front();
                           if (!self->out_.empty()) {
                             self->do_write();
                             return;
                           }
                           self->memo_->reload.reset();  // every answer is out: the next reload line runs anew
                           if (self->state_ == client_state::closing) self->stop();
                         });
  }

  asio::io_context& io_;
  std::shared_ptr<platform::control_stream> stream_;
  std::shared_ptr<control_callbacks> shared_cb_;
  std::shared_ptr<reload_memo> memo_ = std::make_shared<reload_memo>();
  control_callbacks own_cb_;
  std::array<char, 4096> buf_{};
  std::string line_;
  std::deque<std::string> out_;
  std::size_t queued_ = 0;
  std::uint64_t follow_id_ = 0;
  client_state state_ = client_state::open;
};

control_server::control_server(asio::io_context& io, control_callbacks callbacks)
    : io_(io), callbacks_(std::make_shared<control_callbacks>(std::move(callbacks))) {}

control_server::~control_server() {
  close();
}

platform::result<void> control_server::open(const std::string& endpoint) {
  auto opened = platform::open_control_endpoint(io_, endpoint);
  if (!opened) return platform::fail(opened.error());
  acceptor_ = std::move(*opened);
  acceptor_->start([this](std::shared_ptr<platform::control_stream> stream) { admit(std::move(stream)); });
  return {};
}

void control_server::admit(std::shared_ptr<platform::control_stream> stream) {
  std::erase_if(clients_, [](const std::weak_ptr<client>& c) { return c.expired(); });
  auto c = std::make_shared<client>(io_, std::move(stream), callbacks_);
  if (clients_.size() >= max_clients) {
    // Full: the client idle the longest makes room, so that connections
    // that merely sit there cannot lock operators out. Log followers and
    // clients owed an answer are not idle.
    auto oldest = std::find_if(clients_.begin(), clients_.end(), [](const std::weak_ptr<client>& w) {
      auto other = w.lock();
      return other && other->idle();
    });
    if (oldest == clients_.end()) {
      c->reject(reply_error("too many control clients"));
      return;
    }
    oldest->lock()->reject(reply_error("closed to make room: too many control clients, and this one was idle"));
    clients_.erase(oldest);
  }
  clients_.push_back(c);
  c->start();
}

void control_server::close() {
  if (acceptor_) {
    acceptor_->close();
    acceptor_.reset();
  }
  for (auto& weak : clients_) {
    if (auto c = weak.lock()) c->stop();
  }
  clients_.clear();
}

std::string control_server::describe() const {
  return acceptor_ ? acceptor_->describe() : std::string();
}

}  // namespace plexd::core
