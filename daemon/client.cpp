// The control client behind `plexd status|logs|reload`.
#include <cstdio>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>

#include "config_source.hpp"
#include "plexd/core/control.hpp"
#include "plexd/core/json.hpp"
#include "plexd/platform/control_transport.hpp"
#include "plexd/platform/paths.hpp"
#include "verbs.hpp"

namespace plexd::daemon {
namespace {

using core::json::value;

// C1 controls (U+0080..U+009F) in UTF-8: 0xC2 then 0x80..0x9F. Terminals
// that honour them treat U+009B like ESC '['.
bool c1_control(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]) == 0xC2 && i + 1 < s.size() &&
         (static_cast<unsigned char>(s[i + 1]) & 0xE0) == 0x80;
}

// Strings from the daemon (names, paths, log text, errors) may carry what a
// client or a config file put there. Printed raw, escape sequences would
// drive the operator's terminal (retitle it, hide lines, fake output), so
// control characters are shown as \xNN. A tab stays; a newline does not,
// since each string is printed as (part of) one line of its own.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7F || c1_control(s, i)) {
      const unsigned code = c1_control(s, i) ? static_cast<unsigned char>(s[++i]) : c;
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", code);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// JSON output already escapes C0 controls; C1 controls pass as UTF-8 and
// are written as \u00NN instead (the same string to a JSON reader).
std::string json_for_terminal(const value& v) {
  const std::string text = v.dump();
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (c1_control(text, i)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(text[++i]));
      out += buf;
    } else {
      out += text[i];
    }
  }
  return out;
}

// printf's argument for a daemon string: escaped, alive until the end of the
// full expression.
std::string str(const value& v) {
  return printable(v.as_string());
}

// A blocking request/response session: small, and the CLI has nothing
// else to do meanwhile.
class control_client {
 public:
  bool connect(const cli_args& args) {
    std::string endpoint = args.control;
    if (endpoint.empty()) {
      // Only the endpoint matters here: a file with errors elsewhere (being
      // edited, about to be reloaded) must not lock the operator out.
      const auto src = find_config(args.config_file);
      if (src.builtin()) {
        endpoint = platform::default_control_endpoint();
      } else {
        endpoint = config::read_control_endpoint(src.path).value_or(platform::default_control_endpoint());
      }
      if (endpoint.empty()) {
        std::fprintf(stderr, "plexd: the control endpoint is off in %s ([control] endpoint = \"\")\n",
                     src.name().c_str());
        return false;
      }
    }
    auto connected = platform::connect_control_endpoint(io_, endpoint);
    if (!connected) {
      std::fprintf(stderr, "plexd: %s (is the daemon running?)\n", printable(connected.error()).c_str());
      return false;
    }
    stream_ = std::move(*connected);
    return true;
  }

  bool send(const value& request) {
    std::string line = request.dump() + "\n";
    asio::error_code result;
    stream_->async_write(asio::buffer(line), [&](const asio::error_code& ec, std::size_t) { result = ec; });
    io_.restart();
    io_.run();
    if (result) std::fprintf(stderr, "plexd: control endpoint: %s\n", result.message().c_str());
    return !result;
  }

  /// Next reply line, parsed; a null value at end of stream or on error.
  value receive() {
    for (;;) {
      const auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        auto parsed = core::json::parse(line);
        if (!parsed.ok()) {
          std::fprintf(stderr, "plexd: bad reply from the daemon: %s\n", printable(parsed.error()).c_str());
          return {};
        }
        return *parsed;
      }
      char chunk[8192];
      asio::error_code result;
      std::size_t got = 0;
      stream_->async_read_some(asio::buffer(chunk), [&](const asio::error_code& ec, std::size_t n) {
        result = ec;
        got = n;
      });
      io_.restart();
      io_.run();
      if (result) return {};
      buffer_.append(chunk, got);
    }
  }

 private:
  asio::io_context io_;
  std::shared_ptr<platform::control_stream> stream_;
  std::string buffer_;
};

value request(const cli_args& args, const value& req, control_client& client) {
  if (!client.connect(args) || !client.send(req)) return {};
  auto reply = client.receive();
  if (reply.is_null()) std::fprintf(stderr, "plexd: no reply from the daemon\n");
  return reply;
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

// A forward listener's upstreams, indented under it.
void print_upstreams(const value& list) {
  if (!list.is_array()) return;
  for (const auto& u : list.as_array()) {
    std::printf("  -> %-43s %-10s %7.0f %9.0f %8.0f %11s %11s\n", str(u["address"]).c_str(), str(u["state"]).c_str(),
                u["active"].as_number(), u["connects"].as_number(), u["connect_failures"].as_number(),
                human_bytes(u["bytes_up"].as_number()).c_str(), human_bytes(u["bytes_down"].as_number()).c_str());
  }
}

void print_status_table(const value& s) {
  const auto& lr = s["last_reload"];
  std::printf("plexd %s  pid %.0f  up %.1f s  threads %.0f (%s)\n", str(s["version"]).c_str(), s["pid"].as_number(),
              s["uptime_s"].as_number(), s["threads"].as_number(), str(s["backend"]).c_str());
  std::printf("config %s (generation %.0f); last reload %s at %s\n", str(s["config_file"]).c_str(),
              s["config_generation"].as_number(), lr["ok"].as_bool() ? "ok" : "FAILED", str(lr["at"]).c_str());
  for (const auto& e : lr["errors"].as_array()) std::printf("  %s\n", str(e).c_str());
  std::printf("\n%-16s %-22s %-8s %-10s %7s %9s %8s %11s %11s %7s\n", "NAME", "BIND", "HANDLER", "STATE", "ACTIVE",
              "ACCEPTED", "REFUSED", "IN", "OUT", "ERRORS");
  for (const auto& l : s["listeners"].as_array()) {
    std::printf("%-16s %-22s %-8s %-10s %7.0f %9.0f %8.0f %11s %11s %7.0f\n", str(l["name"]).c_str(),
                str(l["bind"]).c_str(), str(l["handler"]).c_str(), str(l["state"]).c_str(), l["active"].as_number(),
                l["accepted"].as_number(), l["refused"].as_number(), human_bytes(l["bytes_in"].as_number()).c_str(),
                human_bytes(l["bytes_out"].as_number()).c_str(), l["errors"].as_number());
    print_upstreams(l["upstreams"]);
  }
  const auto& b = s["backplane"];
  if (b.is_null() || b["state"].as_string() == "off") return;
  std::printf("\nbackplane %s  redis %s  instance %s  published %.0f  received %.0f  reconnects %.0f  dropped %.0f\n",
              b["state"].as_string().c_str(), b["redis"].as_string().c_str(), b["instance"].as_string().c_str(),
              b["published"].as_number(), b["received"].as_number(), b["reconnects"].as_number(),
              b["dropped"].as_number());
  if (!b["last_error"].as_string().empty()) std::printf("  last error: %s\n", b["last_error"].as_string().c_str());
}

enum class record_format { text, json };

void print_record(const value& r, record_format format) {
  if (format == record_format::json) {
    std::printf("%s\n", json_for_terminal(r).c_str());
  } else {
    std::printf("%s %-5s %s\n", str(r["time"]).c_str(), str(r["level"]).c_str(), str(r["text"]).c_str());
  }
  std::fflush(stdout);
}

bool reply_failed(const value& reply) {
  if (reply.is_null()) return true;
  if (!reply["error"].is_null()) {
    std::fprintf(stderr, "plexd: %s\n", str(reply["error"]).c_str());
    return true;
  }
  return false;
}
}  // namespace

int query_status(const cli_args& args) {
  control_client client;
  auto reply = request(args, core::json::object{{"v", 1}, {"cmd", "status"}}, client);
  if (reply_failed(reply)) return 1;
  if (args.json) {
    std::printf("%s\n", json_for_terminal(reply["status"]).c_str());
  } else {
    print_status_table(reply["status"]);
  }
  return 0;
}

int show_logs(const cli_args& args) {
  control_client client;
  auto reply =
      request(args, core::json::object{{"v", 1}, {"cmd", "logs"}, {"n", args.count}, {"follow", args.follow}}, client);
  if (reply_failed(reply)) return 1;
  for (const auto& r : reply["records"].as_array())
    print_record(r, args.json ? record_format::json : record_format::text);
  if (!args.follow) return 0;
  for (;;) {
    auto next = client.receive();
    if (next.is_null()) return 0;  // the daemon went away
    print_record(next["record"], args.json ? record_format::json : record_format::text);
  }
}

int request_reload(const cli_args& args) {
  control_client client;
  auto reply = request(args, core::json::object{{"v", 1}, {"cmd", "reload"}}, client);
  if (reply.is_null()) return 1;
  if (!reply["error"].is_null() && reply["reload"].is_null()) {
    std::fprintf(stderr, "plexd: %s\n", str(reply["error"]).c_str());
    return 1;
  }
  const auto& r = reply["reload"];
  if (r["ok"].as_bool()) {
    std::printf("reload ok at %s\n", str(r["at"]).c_str());
    return 0;
  }
  std::fprintf(stderr, "%s at %s:\n",
               r["applied"].as_bool() ? "reload applied, but parts failed" : "reload rejected, nothing changed",
               str(r["at"]).c_str());
  for (const auto& e : r["errors"].as_array()) std::fprintf(stderr, "%s\n", str(e).c_str());
  return 1;
}

}  // namespace plexd::daemon
