// `plexd service install`: finds and validates the config exactly as
// `plexd run` will (so what the service will run is what gets checked),
// refuses files a non-administrator controls, registers the service, and
// locks its data directory down to SYSTEM, Administrators and the
// service's own account.
#include <cstdio>

#include "config_source.hpp"
#include "plexd/platform/paths.hpp"
#include "plexd/platform/service_files.hpp"
#include "service_verb.hpp"

namespace plexd::daemon {
namespace {

// A service trusts its config and data directory: whoever may change them
// controls what it runs. "" or why the install must not go on.
std::string check_owners(const std::string& config_path) {
  for (const auto& path : {platform::service_data_dir(), platform::service_logs_dir(), config_path}) {
    const auto owner = platform::inspect_owner(path);
    switch (owner.trust) {
      case platform::owner_trust::absent:
      case platform::owner_trust::trusted:
        break;
      case platform::owner_trust::unknown:
        return "cannot read the owner of " + path + ": " + owner.error + "; service not installed";
      case platform::owner_trust::untrusted: {
        std::string message = path;
        message += " is owned by ";
        message += owner.owner;
        message +=
            ", who is not an administrator: the service would run what they put there.\n"
            "  Make Administrators its owner (icacls \"";
        message += path;
        message +=
            "\" /setowner Administrators /T) after checking its contents, or use another path; "
            "service not installed";
        return message;
      }
    }
  }
  return {};
}

// The data directory keeps its config readable only by the service (and
// administrators); the logs directory is the one place it may write.
std::string protect_files(const std::string& account) {
  if (auto err = platform::protect_directory(platform::service_data_dir(), account, platform::account_access::read);
      !err.empty()) {
    return err;
  }
  return platform::protect_directory(platform::service_logs_dir(), account, platform::account_access::modify);
}

void print_installed(const cli_args& args, const std::string& account, const std::string& config_path) {
  const auto& name = args.service_name;
  std::printf(
      "installed service %s (account %s, start automatic)\n  config: %s\n  service log: %s\n"
      "  %s and its logs are writable by SYSTEM, Administrators and %s only\n"
      "start it with: plexd service start --name %s\n",
      name.c_str(), account.c_str(), config_path.c_str(), platform::service_log_path(name).c_str(),
      platform::service_data_dir().c_str(), account.c_str(), name.c_str());
}
}  // namespace

int install_service_verb(const cli_args& args) {
  const auto& name = args.service_name;
  const auto src = find_config(args.config_file);
  if (src.builtin()) {
    return service_failure(
        args, "no config file: create " + platform::default_config_path() + " or pass -c FILE; service not installed");
  }
  // Refuse a config that would make the service stop right after its start.
  const auto loaded = load(src);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return service_failure(args, src.path + ": config is invalid; service not installed");
  }
  if (auto refusal = check_owners(src.path); !refusal.empty()) return service_failure(args, refusal);

  std::string account;
  if (auto r = platform::install_service({name, src.path}, account); !r.ok()) {
    return service_failure(args, explain(r, name));
  }
  if (auto err = protect_files(account); !err.empty()) {
    platform::uninstall_service(name);
    return service_failure(args, err + "; service not installed");
  }
  if (auto err = platform::register_event_source(name); !err.empty()) {
    std::fprintf(stderr, "plexd service install: warning: cannot register the Event Log source: %s\n", err.c_str());
  }
  const std::string shared = platform::default_control_endpoint();
  if (name != "plexd" && loaded.cfg.control.endpoint == shared) {
    std::fprintf(stderr,
                 "plexd service install: note: %s uses control endpoint %s; give each instance its own\n"
                 "  [control] endpoint = \"pipe:%s\" so they can run side by side\n",
                 src.path.c_str(), shared.c_str(), name.c_str());
  }
  print_installed(args, account, src.path);
  return 0;
}

}  // namespace plexd::daemon
