#include "cli.hpp"

#include <cstdlib>

#include "plexd/platform/backend.hpp"
#include "plexd/platform/paths.hpp"
#include "version.hpp"

namespace plexd::daemon {
namespace {

struct verb_info {
  const char* name;
  const char* summary;
  const char* help;
};

// One row per verb: the help texts are the documentation of record
// (README and man page quote them).
const verb_info verbs[] = {
    {"run", "run in the foreground until stopped",
     "usage: plexd run [-c FILE] [--log-level L]\n"
     "\n"
     "Runs the daemon in the foreground until SIGINT/SIGTERM (Ctrl+C) or a service stop.\n"
     "SIGHUP (or `plexd reload`) re-reads the config without dropping connections.\n"
     "\n"
     "  -c, --config FILE   config file (else $PLEXD_CONFIG, else the system default,\n"
     "                      else the built-in demo config)\n"
     "  --log-level L       trace|debug|info|warn|error, overrides [daemon] log_level\n"},
    {"check", "validate a config without binding anything",
     "usage: plexd check [-c FILE]\n"
     "\n"
     "Loads and validates the config and binds nothing (nor connects to Redis). Prints\n"
     "one line per listener, and the [backplane] Redis address without its password;\n"
     "errors go to stderr as FILE:LINE:COL: KEY: MESSAGE and the exit code is 1.\n"},
    {"status", "show the running daemon's state",
     "usage: plexd status [--json] [-c FILE | --control ENDPOINT]\n"
     "\n"
     "Asks the running daemon (through its control endpoint) for its state: version,\n"
     "uptime, config generation, last reload, and per listener its bind address, handler,\n"
     "state and counters (active, accepted, refused, bytes in/out, errors); under a\n"
     "forward listener, each upstream's state, active, connects, connect failures and\n"
     "bytes up/down; with a [backplane], its state (up, connecting, down), Redis address\n"
     "(never the password), instance name and counters (published, received, reconnects,\n"
     "dropped).\n"
     "\n"
     "  --json              one JSON object instead of a table\n"
     "  -c FILE             find the control endpoint in this config\n"
     "  --control ENDPOINT  unix:PATH | pipe:NAME | tcp:HOST:PORT\n"},
    {"logs", "show the daemon's recent log records",
     "usage: plexd logs [-n N] [--follow] [--json] [-c FILE | --control ENDPOINT]\n"
     "\n"
     "Prints the daemon's most recent log records from its in-memory ring.\n"
     "\n"
     "  -n N                how many records (default 100)\n"
     "  -f, --follow        keep printing new records until interrupted\n"
     "  --json              one JSON object per record\n"
     "  -c FILE             find the control endpoint in this config\n"
     "  --control ENDPOINT  unix:PATH | pipe:NAME | tcp:HOST:PORT\n"},
    {"reload", "make the running daemon re-read its config",
     "usage: plexd reload [-c FILE | --control ENDPOINT]\n"
     "\n"
     "The daemon validates its config file again. If it is invalid nothing changes and\n"
     "the errors are printed (exit 1). If valid: new listeners open, removed ones drain,\n"
     "unchanged ones keep every connection and take the new limits and options.\n"},
    {"connect", "a full-duplex terminal client",
     "usage: plexd connect HOST:PORT\n"
     "\n"
     "Connects and copies stdin to the socket and the socket to stdout at the same time.\n"
     "EOF on stdin half-closes the connection; plexd exits when the server closes.\n"
     "HOST may be [V6] for IPv6.\n"},
    {"service", "manage the Windows service",
     "usage: plexd service install|uninstall|start|stop|status|reload [--name NAME] [-c FILE]\n"
     "\n"
     "Windows: installs and drives plexd as a Windows service (run elevated).\n"
     "  install     register the service (NAME, default plexd) to run with FILE (found as\n"
     "              for run); protects %ProgramData%\\plexd, refuses files a non-admin owns\n"
     "  uninstall   stop and remove it\n"
     "  start|stop  start or stop it\n"
     "  status      its state, account, command line and last exit code\n"
     "  reload      send it PARAMCHANGE: re-read its config (see also `plexd reload`)\n"
     "Several instances may be installed under different names, each with its own config.\n"
     "On Linux use systemd instead (this verb explains how and exits 2).\n"},
};

const verb_info* find_verb(const std::string& name) {
  for (const auto& v : verbs) {
    if (name == v.name) return &v;
  }
  return nullptr;
}

bool parse_long(const std::string& s, long& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtol(s.c_str(), &end, 10);
  return *end == '\0' && out >= 0;
}
}  // namespace

std::string version_line() {
  return std::string("plexd ") + version + " (" + platform::system_name() + ", asio " + platform::asio_backend() + ")";
}

std::string usage(const std::string& verb) {
  if (const auto* v = find_verb(verb)) return v->help;
  std::string text =
      "usage: plexd VERB [OPTIONS]\n"
      "\n"
      "One process, one event loop, many TCP ports: each [[listener]] in the config binds\n"
      "an address to a handler (echo, greet, chat, discard, forward = a TCP proxy).\n"
      "\n"
      "Verbs:\n";
  for (const auto& v : verbs) {
    std::string name = v.name;
    name.resize(10, ' ');
    text += "  " + name + v.summary + "\n";
  }
  text +=
      "\n"
      "  plexd VERB --help   help for one verb\n"
      "  plexd --version     version, platform and Asio backend\n"
      "\n"
      "Config lookup: -c FILE, else $PLEXD_CONFIG, else " +
      platform::default_config_path() +
      ", else the built-in demo (echo :8002, greet :8003, chat :8008, discard :8009 on\n"
      "127.0.0.1). Exit codes: 0 ok, 1 failed, 2 bad usage.\n";
  return text;
}

namespace {
// The positional arguments each verb takes (only connect and service take any).
std::string take_positional(const std::vector<std::string>& positional, cli_args& out) {
  if (out.verb == "connect") {
    if (positional.size() != 1) return "connect needs exactly one HOST:PORT";
    out.target = positional[0];
  } else if (out.verb == "service" || out.verb == "service-run") {
    if (out.verb == "service" && positional.size() != 1) {
      return "service needs one of install|uninstall|start|stop|status|reload";
    }
    if (!positional.empty()) out.service_verb = positional[0];
  } else if (!positional.empty()) {
    return "unexpected argument '" + positional[0] + "'";
  }
  return {};
}

// The options after the verb; `positional` collects the rest.
std::string parse_options(const std::vector<std::string>& args, std::size_t i, cli_args& out,
                          std::vector<std::string>& positional) {
  auto value = [&](const std::string& flag, std::string& into) -> std::string {
    if (i + 1 >= args.size()) return flag + " needs a value";
    into = args[++i];
    return {};
  };
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string err;
    if (a == "--help" || a == "-h") {
      out.help = true;
    } else if (a == "-c" || a == "--config") {
      err = value(a, out.config_file);
    } else if (a == "--control") {
      err = value(a, out.control);
    } else if (a == "--log-level") {
      err = value(a, out.log_level);
    } else if (a == "--json") {
      out.json = true;
    } else if (a == "-f" || a == "--follow") {
      out.follow = true;
    } else if (a == "-n") {
      std::string n;
      err = value(a, n);
      if (err.empty() && !parse_long(n, out.count)) err = "-n needs a non-negative number";
    } else if (a == "--name") {
      err = value(a, out.service_name);
    } else if (!a.empty() && a[0] == '-') {
      err = "unknown option '" + a + "'";
    } else {
      positional.push_back(a);
    }
    if (!err.empty()) return err;
  }
  return {};
}
}  // namespace

std::string parse_cli(const std::vector<std::string>& args, cli_args& out) {
  if (args.empty()) return "missing verb";
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    out.help = true;
    if (args.size() > 1) out.verb = args[1];
    return {};
  }
  if (first == "--version" || first == "-V" || first == "version") {
    out.verb = "version";
    return {};
  }
  out.verb = first;
  if (!find_verb(out.verb) && out.verb != "service-run") return "unknown verb '" + out.verb + "'";
  std::vector<std::string> positional;
  if (auto err = parse_options(args, 1, out, positional); !err.empty()) return err;
  if (out.help) return {};
  return take_positional(positional, out);
}

}  // namespace plexd::daemon
