// `plexd service install|uninstall|start|stop|status|reload`: drives the
// system's service manager through the platform's service primitives and
// says, in the operator's terms, what happened and what to do next. Where
// plexd does not drive the service manager itself (systemd ships units
// for it), the verb explains the systemd way and exits 2.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "plexd/platform/service_files.hpp"
#include "service_verb.hpp"
#include "verbs.hpp"

namespace plexd::daemon {
namespace {

namespace fs = std::filesystem;

fs::path utf8_path(const std::string& text) {
  return fs::path(std::u8string(text.begin(), text.end()));
}

std::uintmax_t file_size(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(utf8_path(path), ec);
  return ec ? 0 : n;
}

std::string read_from(const std::string& path, std::uintmax_t offset) {
  std::ifstream in(utf8_path(path), std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::erase(text, '\r');
  return text;
}

int systemd_advice(const cli_args& args) {
  std::fprintf(stderr,
               "plexd service %s: Windows service management is not used on Linux.\n"
               "Use systemd instead:\n"
               "  sudo systemctl enable --now plexd     # install: the .deb ships plexd.service\n"
               "  sudo systemctl status plexd           # state\n"
               "  sudo systemctl reload plexd           # re-read /etc/plexd/plexd.toml\n"
               "  sudo systemctl stop plexd\n"
               "  journalctl -u plexd                   # logs (or: plexd logs)\n",
               args.service_verb.c_str());
  return 2;
}

// It stopped during start-up: say why, from what the service logged.
int report_failed_start(const cli_args& args, const platform::service_status& st, std::uintmax_t log_offset) {
  const auto& name = args.service_name;
  const std::string log_path = platform::service_log_path(name);
  std::fprintf(stderr, "plexd service start: service %s failed to start%s%s\n", name.c_str(),
               st.exit_reason.empty() ? "" : ": ", st.exit_reason.c_str());
  const std::string log = read_from(log_path, log_offset);
  if (!log.empty()) std::fprintf(stderr, "%s", log.c_str());
  std::fprintf(stderr, "(service log: %s; also in the Event Log: Application, source %s)\n", log_path.c_str(),
               name.c_str());
  return 1;
}

int start(const cli_args& args) {
  const auto& name = args.service_name;
  const auto log_offset = file_size(platform::service_log_path(name));
  platform::service_status st;
  const auto r = platform::start_service(name, st);
  if (r.error == platform::service_error::already_running) {
    std::printf("service %s is already running\n", name.c_str());
    return 0;
  }
  if (r.error == platform::service_error::timed_out) {
    return service_failure(args, "service " + name + " is still " + platform::service_state_name(st.state) +
                                     "; see plexd service status --name " + name);
  }
  if (!r.ok()) return service_failure(args, explain(r, name));
  if (st.state != platform::service_state::running) return report_failed_start(args, st, log_offset);
  std::printf("service %s is running (pid %lu)\n", name.c_str(), st.pid);
  return 0;
}

int stop(const cli_args& args) {
  const auto& name = args.service_name;
  platform::service_status st;
  const auto r = platform::stop_service(name, st);
  if (r.error == platform::service_error::not_running) {
    std::printf("service %s is not running\n", name.c_str());
    return 0;
  }
  if (r.error == platform::service_error::timed_out) {
    return service_failure(args,
                           "service " + name + " did not stop (state " + platform::service_state_name(st.state) + ")");
  }
  if (!r.ok()) return service_failure(args, explain(r, name));
  std::printf("service %s stopped%s%s\n", name.c_str(), st.exit_reason.empty() ? "" : ": ", st.exit_reason.c_str());
  return 0;
}

int uninstall(const cli_args& args) {
  const auto& name = args.service_name;
  if (auto r = platform::uninstall_service(name); !r.ok()) return service_failure(args, explain(r, name));
  platform::unregister_event_source(name);
  std::printf("removed service %s (its config and logs in %s are kept)\n", name.c_str(),
              platform::service_data_dir().c_str());
  return 0;
}

int reload(const cli_args& args) {
  const auto& name = args.service_name;
  const auto r = platform::reload_service(name);
  if (r.error == platform::service_error::not_running)
    return service_failure(args, "service " + name + " is not running");
  if (r.error == platform::service_error::busy) {
    return service_failure(args, "service " + name + " cannot reload now (it is starting or stopping)");
  }
  if (!r.ok()) return service_failure(args, explain(r, name));
  std::printf(
      "reload requested from service %s; the outcome is in `plexd status` (last_reload) and the log.\n"
      "(`plexd reload -c FILE` reloads and waits for the result.)\n",
      name.c_str());
  return 0;
}

const char* start_type_text(platform::service_start_type type) {
  switch (type) {
    case platform::service_start_type::automatic:
      return "automatic";
    case platform::service_start_type::manual:
      return "manual";
    case platform::service_start_type::disabled:
      return "disabled";
    default:
      return "boot/system";
  }
}

int status(const cli_args& args) {
  const auto& name = args.service_name;
  platform::service_status st;
  if (auto r = platform::query_service(name, st); !r.ok()) return service_failure(args, explain(r, name));
  std::string state = platform::service_state_name(st.state);
  if (st.pid != 0) state += " (pid " + std::to_string(st.pid) + ")";
  std::printf("service %s: %s\n", name.c_str(), state.c_str());
  if (st.state == platform::service_state::stopped && !st.exit_reason.empty()) {
    std::printf("  last exit:    %s\n", st.exit_reason.c_str());
  }
  std::printf("  start type:   %s\n", start_type_text(st.start_type));
  if (!st.account.empty()) std::printf("  account:      %s\n", st.account.c_str());
  if (!st.command.empty()) std::printf("  command:      %s\n", st.command.c_str());
  std::printf("  service log:  %s\n", platform::service_log_path(name).c_str());
  return 0;
}

struct action {
  const char* verb;
  int (*run)(const cli_args&);
};

const action actions[] = {{"install", install_service_verb},
                          {"uninstall", uninstall},
                          {"start", start},
                          {"stop", stop},
                          {"status", status},
                          {"reload", reload}};
}  // namespace

int service_failure(const cli_args& args, const std::string& message) {
  std::fprintf(stderr, "plexd service %s: %s\n", args.service_verb.c_str(), message.c_str());
  return 1;
}

std::string explain(const platform::service_result& result, const std::string& name) {
  using platform::service_error;
  switch (result.error) {
    case service_error::access_denied:
      return "access denied: run this from an elevated prompt (Run as administrator)";
    case service_error::not_installed:
      return "no service named '" + name + "' is installed (plexd service install --name " + name + " -c FILE)";
    case service_error::exists:
      return "a service named '" + name + "' already exists: uninstall it first, or choose another --name";
    case service_error::display_name_taken:
      return "another service already uses the display name of '" + name + "': choose another --name";
    case service_error::marked_for_delete:
      return "service '" + name +
             "' is marked for deletion: close the Services console and any program that has it open, then try again";
    case service_error::disabled:
      return "service '" + name + "' is disabled (sc config " + name + " start= auto)";
    case service_error::not_running:
      return "service '" + name + "' is not running";
    case service_error::already_running:
      return "service '" + name + "' is already running";
    case service_error::busy:
      return "service '" + name + "' is starting or stopping: try again";
    case service_error::timed_out:
      return "service '" + name + "' did not settle in time";
    case service_error::unsupported:
      return "not supported on this system";
    default:
      return result.detail;
  }
}

int service_verb(const cli_args& args) {
  if (!platform::service_manager_available()) return systemd_advice(args);
  if (!platform::valid_service_name(args.service_name)) {
    std::fprintf(stderr, "plexd service: bad --name '%s' (letters, digits, '-' and '_', at most 80)\n",
                 args.service_name.c_str());
    return 2;
  }
  for (const auto& a : actions) {
    if (args.service_verb == a.verb) return a.run(args);
  }
  std::fprintf(stderr, "plexd service: unknown action '%s' (install|uninstall|start|stop|status|reload)\n",
               args.service_verb.c_str());
  return 2;
}

}  // namespace plexd::daemon
