#include "plexd/platform/service.hpp"

#include <cstdio>

namespace plexd::platform {

int service_command(const service_request& request) {
  std::fprintf(stderr,
               "plexd service %s: Windows service management is not used on Linux.\n"
               "Use systemd instead:\n"
               "  sudo systemctl enable --now plexd     # install: the .deb ships plexd.service\n"
               "  sudo systemctl status plexd           # state\n"
               "  sudo systemctl reload plexd           # re-read /etc/plexd/plexd.toml\n"
               "  sudo systemctl stop plexd\n"
               "  journalctl -u plexd                   # logs (or: plexd logs)\n",
               request.verb.c_str());
  return 2;
}

int run_as_service(const std::string&, const std::function<int()>&) {
  std::fprintf(stderr, "plexd: service-run is only used by the Windows service manager\n");
  return 2;
}

}  // namespace plexd::platform
