// The command line: verbs, options, help texts.
#pragma once

#include <string>
#include <vector>

namespace plexd::daemon {

struct cli_args {
  std::string verb;         // run | check | status | logs | reload | connect | service | service-run
  std::string config_file;  // -c FILE
  std::string control;      // --control ENDPOINT
  std::string log_level;    // --log-level L
  bool json = false;        // --json
  bool follow = false;      // --follow
  bool help = false;
  long count = 100;          // logs -n N
  std::string service_verb;  // service install|uninstall|start|stop|status
  std::string service_name = "plexd";
  std::string target;  // connect HOST:PORT
};

/// Parses argv. Returns "" or an error message (exit 2).
std::string parse_cli(const std::vector<std::string>& args, cli_args& out);

/// The top-level help, or a verb's.
std::string usage(const std::string& verb);

/// "plexd 0.1.0 (linux, asio epoll)"
std::string version_line();

}  // namespace plexd::daemon
