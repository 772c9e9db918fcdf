#include "plexd/core/metrics_http.hpp"

#include <cstdio>

#include <array>

#include <asio/steady_timer.hpp>

#include "plexd/platform/control_transport.hpp"

namespace plexd::core {

namespace {

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void sample(std::string& out, const char* name, const std::string& labels, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  out += std::string(name) + (labels.empty() ? "" : "{" + labels + "}") + " " + buf + "\n";
}

void backplane_metrics(std::string& out, const backplane_status& b) {
  family(out, "plexd_backplane_up", "gauge", "1 while the Redis backplane is connected (0 when down or off).");
  sample(out, "plexd_backplane_up", "", b.state == "up" ? 1 : 0);
  const std::pair<const char*, std::uint64_t> counters[] = {
      {"plexd_backplane_published_total", b.published},
      {"plexd_backplane_received_total", b.received},
      {"plexd_backplane_reconnects_total", b.reconnects},
      {"plexd_backplane_dropped_total", b.dropped},
  };
  const char* help[] = {"Lines and notices Redis accepted from this instance.",
                        "Lines and notices from other instances delivered here.", "Reconnections to Redis.",
                        "Lines not published: queue full while Redis was unreachable."};
  for (std::size_t i = 0; i < std::size(counters); ++i) {
    family(out, counters[i].first, "counter", help[i]);
    sample(out, counters[i].first, "", static_cast<double>(counters[i].second));
  }
}

}  // namespace

namespace detail {

// One HTTP exchange: read the request head, answer, close. The whole
// exchange has one deadline, so a client that sends nothing (or never
// reads the answer) holds its descriptor for a few seconds at most.
class metrics_session : public std::enable_shared_from_this<metrics_session> {
 public:
  metrics_session(asio::io_context& io, std::shared_ptr<platform::control_stream> s,
                  std::function<std::string()> render)
      : stream_(std::move(s)), deadline_(io), render_(std::move(render)) {}

  void start() {
    deadline_.expires_after(metrics_server::request_timeout);
    deadline_.async_wait([weak = weak_from_this()](const asio::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->stop();
    });
    read();
  }

  void stop() {
    deadline_.cancel();
    stream_->close();
  }

 private:
  void read() {
    stream_->async_read_some(asio::buffer(chunk_),
                             [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                               if (ec) return self->stop();  // reset, closed early or timed out: nothing to say
                               self->head_.append(self->chunk_.data(), n);
                               if (self->head_.find("\r\n\r\n") != std::string::npos) return self->respond();
                               if (self->head_.size() > metrics_server::max_request) return self->stop();
                               self->read();
                             });
  }

  void respond() {
    const bool wanted = head_.rfind("GET /metrics ", 0) == 0 || head_.rfind("GET /metrics?", 0) == 0;
    const std::string body = wanted ? render_() : "not found: try GET /metrics\n";
    reply_ =
        std::string("HTTP/1.0 ") + (wanted ? "200 OK" : "404 Not Found") +
        "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    stream_->async_write(asio::buffer(reply_),
                         [self = shared_from_this()](const asio::error_code&, std::size_t) { self->stop(); });
  }

  std::shared_ptr<platform::control_stream> stream_;
  asio::steady_timer deadline_;
  std::function<std::string()> render_;
  std::array<char, 2048> chunk_{};
  std::string head_;
  std::string reply_;
};
}  // namespace detail

namespace {
// Forward listeners: the same counters as status, one series per upstream.
void upstream_metrics(std::string& out, const std::vector<listener_status>& listeners) {
  struct counter {
    const char* name;
    const char* type;
    const char* help;
    double (*get)(const upstream_status&);
  };
  static const counter counters[] = {
      {"plexd_upstream_up", "gauge", "1 if the upstream is up.",
       [](const upstream_status& u) { return u.state == "up" ? 1.0 : 0.0; }},
      {"plexd_upstream_active", "gauge", "Proxied connections open to the upstream.",
       [](const upstream_status& u) { return static_cast<double>(u.active); }},
      {"plexd_upstream_connects_total", "counter", "Connections established to the upstream.",
       [](const upstream_status& u) { return static_cast<double>(u.connects); }},
      {"plexd_upstream_connect_failures_total", "counter", "Connect attempts to the upstream that failed.",
       [](const upstream_status& u) { return static_cast<double>(u.connect_failures); }},
      {"plexd_upstream_bytes_up_total", "counter", "Bytes sent to the upstream.",
       [](const upstream_status& u) { return static_cast<double>(u.bytes_up); }},
      {"plexd_upstream_bytes_down_total", "counter", "Bytes received from the upstream.",
       [](const upstream_status& u) { return static_cast<double>(u.bytes_down); }},
  };
  bool any = false;
  for (const auto& l : listeners) any = any || !l.upstreams.empty();
  if (!any) return;
  for (const auto& c : counters) {
    family(out, c.name, c.type, c.help);
    for (const auto& l : listeners) {
      for (const auto& u : l.upstreams) {
        sample(out, c.name, "listener=\"" + label_value(l.name) + "\",upstream=\"" + label_value(u.address) + "\"",
               c.get(u));
      }
    }
  }
}
}  // namespace

std::string metrics_text(const std::vector<listener_status>& listeners, const daemon_gauges& gauges) {
  std::string out;
  family(out, "plexd_uptime_seconds", "gauge", "Seconds since the daemon started.");
  sample(out, "plexd_uptime_seconds", "", gauges.uptime_s);
  family(out, "plexd_config_generation", "gauge", "Configs applied so far (1 = the one at start).");
  sample(out, "plexd_config_generation", "", gauges.config_generation);
  family(out, "plexd_last_reload_success", "gauge", "1 if the last reload applied fully.");
  sample(out, "plexd_last_reload_success", "", gauges.last_reload_ok ? 1 : 0);

  struct counter {
    const char* name;
    const char* type;
    const char* help;
    double (*get)(const listener_status&);
  };
  static const counter counters[] = {
      {"plexd_connections_active", "gauge", "Open connections.",
       [](const listener_status& l) { return static_cast<double>(l.active); }},
      {"plexd_connections_accepted_total", "counter", "Connections accepted.",
       [](const listener_status& l) { return static_cast<double>(l.accepted); }},
      {"plexd_bytes_received_total", "counter", "Bytes received from clients.",
       [](const listener_status& l) { return static_cast<double>(l.bytes_in); }},
      {"plexd_bytes_sent_total", "counter", "Bytes sent to clients.",
       [](const listener_status& l) { return static_cast<double>(l.bytes_out); }},
      {"plexd_errors_total", "counter", "Connections ended by an error or a limit.",
       [](const listener_status& l) { return static_cast<double>(l.errors); }},
  };
  for (const auto& c : counters) {
    family(out, c.name, c.type, c.help);
    for (const auto& l : listeners) {
      sample(out, c.name, "listener=\"" + label_value(l.name) + "\",handler=\"" + l.handler + "\"", c.get(l));
    }
  }
  family(out, "plexd_connections_refused_total", "counter", "Connections refused, by reason.");
  for (const auto& l : listeners) {
    for (const auto& [reason, n] : l.refused_by) {
      sample(out, "plexd_connections_refused_total",
             "listener=\"" + label_value(l.name) + "\",reason=\"" + reason + "\"", static_cast<double>(n));
    }
  }
  upstream_metrics(out, listeners);
  backplane_metrics(out, gauges.backplane);
  return out;
}

metrics_server::metrics_server(asio::io_context& io, std::function<std::string()> render)
    : io_(io), render_(std::move(render)) {}

metrics_server::~metrics_server() {
  // Closing sockets and cancelling timers can only fail on a broken reactor,
  // which a destructor cannot act on.
  try {
    close();
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing to do at destruction
  }
}

platform::result<void> metrics_server::open(const config::bind_address& listen) {
  const std::string shown = listen.to_string();
  const std::string host = listen.host == "localhost" ? "127.0.0.1" : listen.host;
  asio::error_code ec;
  auto addr = host == "*" ? asio::ip::address(asio::ip::address_v6::any()) : asio::ip::make_address(host, ec);
  if (ec) {
    return platform::fail("metrics: bad address '" + shown +
                          "' (metrics listens on a numeric address, '*' or localhost)");
  }
  const asio::ip::tcp::endpoint ep(addr, listen.port);
  auto opened = platform::open_tcp_acceptor(io_, ep, "metrics on " + shown);
  if (!opened) return platform::fail("metrics on " + shown + ": " + opened.error());
  acceptor_ = std::move(*opened);
  acceptor_->start([this](std::shared_ptr<platform::control_stream> stream) { admit(std::move(stream)); });
  return {};
}

void metrics_server::admit(std::shared_ptr<platform::control_stream> stream) {
  std::erase_if(sessions_, [](const std::weak_ptr<detail::metrics_session>& s) { return s.expired(); });
  // Over the cap, close at once: a scraper needs one connection, and the
  // descriptors are better spent on the listeners.
  if (sessions_.size() >= max_connections) {
    stream->close();
    return;
  }
  auto session = std::make_shared<detail::metrics_session>(io_, std::move(stream), render_);
  sessions_.push_back(session);
  session->start();
}

void metrics_server::close() {
  if (acceptor_) {
    acceptor_->close();
    acceptor_.reset();
  }
  for (auto& weak : sessions_) {
    if (auto s = weak.lock()) s->stop();
  }
  sessions_.clear();
}

std::string metrics_server::bound() const {
  if (!acceptor_) return {};
  const auto where = acceptor_->describe();  // "tcp:ADDRESS:PORT"
  return where.substr(where.find(':') + 1);
}

}  // namespace plexd::core
