#include "plexd/core/metrics_http.hpp"

#include <cstdio>

#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include "listener.hpp"
#include "plexd/platform/sockets.hpp"

namespace plexd::core {

namespace {
using tcp = asio::ip::tcp;

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

// One HTTP exchange: read the request head, answer, close.
class metrics_session : public std::enable_shared_from_this<metrics_session> {
 public:
  metrics_session(tcp::socket s, std::function<std::string()> render)
      : socket_(std::move(s)), buffer_(metrics_server::max_request), render_(std::move(render)) {}

  void start() {
    asio::async_read_until(socket_, buffer_, "\r\n\r\n",
                           [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                             if (ec) return;  // too large, reset, or closed early: nothing to say
                             self->respond();
                           });
  }

 private:
  void respond() {
    std::string head(asio::buffers_begin(buffer_.data()), asio::buffers_end(buffer_.data()));
    const bool wanted = head.rfind("GET /metrics ", 0) == 0 || head.rfind("GET /metrics?", 0) == 0;
    const std::string body = wanted ? render_() : "not found: try GET /metrics\n";
    reply_ = std::string("HTTP/1.0 ") + (wanted ? "200 OK" : "404 Not Found") +
             "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    asio::async_write(socket_, asio::buffer(reply_), [self = shared_from_this()](const asio::error_code&, std::size_t) {
      asio::error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  tcp::socket socket_;
  asio::streambuf buffer_;
  std::function<std::string()> render_;
  std::string reply_;
};
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
  backplane_metrics(out, gauges.backplane);
  return out;
}

metrics_server::metrics_server(asio::io_context& io, std::function<std::string()> render)
    : acceptor_(io), render_(std::move(render)) {}

metrics_server::~metrics_server() { close(); }

std::string metrics_server::open(const std::string& listen) {
  const auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  asio::error_code ec;
  auto addr = host == "*" ? asio::ip::address(asio::ip::address_v6::any()) : asio::ip::make_address(host, ec);
  if (ec) return "metrics: bad address '" + listen + "'";
  tcp::endpoint ep(addr, static_cast<unsigned short>(std::stoul(listen.substr(colon + 1))));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) platform::prepare_listen_socket(acceptor_, ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "metrics on " + listen + ": " + ec.message();
  do_accept();
  return {};
}

void metrics_server::close() {
  asio::error_code ignored;
  acceptor_.close(ignored);
}

std::string metrics_server::bound() const {
  asio::error_code ec;
  return endpoint_text(acceptor_.local_endpoint(ec));
}

void metrics_server::do_accept() {
  acceptor_.async_accept([this](const asio::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) std::make_shared<metrics_session>(std::move(socket), render_)->start();
    do_accept();
  });
}

}  // namespace plexd::core
