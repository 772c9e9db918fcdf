// plexd: one process, one event loop, many TCP ports.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli.hpp"
#include "plexd/platform/service.hpp"
#include "verbs.hpp"

namespace {

int dispatch(const plexd::daemon::cli_args& args) {
  using namespace plexd::daemon;
  if (args.verb == "version") {
    std::printf("%s\n", version_line().c_str());
    return 0;
  }
  if (args.help) {
    std::printf("%s", usage(args.verb).c_str());
    return 0;
  }
  if (args.verb == "run") return run_daemon(args);
  if (args.verb == "check") return check_config(args);
  if (args.verb == "status") return query_status(args);
  if (args.verb == "logs") return show_logs(args);
  if (args.verb == "reload") return request_reload(args);
  if (args.verb == "connect") return connect_client(args);
  if (args.verb == "service") return service_verb(args);
  if (args.verb == "service-run") {
    return plexd::platform::run_as_service(args.service_name, [&args] { return run_daemon(args); });
  }
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> raw(argv + 1, argv + argc);
  plexd::daemon::cli_args args;
  if (auto error = plexd::daemon::parse_cli(raw, args); !error.empty()) {
    std::fprintf(stderr, "plexd: %s\n\n%s", error.c_str(), plexd::daemon::usage(args.verb).c_str());
    return 2;
  }
  // Exceptions are for start-up only; one that escapes is a bug, but it
  // must still end in a message and a failure code, never exit 0.
  try {
    return dispatch(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plexd: fatal: %s\n", e.what());
    return 1;
  }
}
