// POSIX systems have their own service managers (systemd units ship in
// packaging/), which plexd does not drive itself: every primitive reports
// service_error::unsupported and the `plexd service` verb explains the
// systemd way instead.
#include "plexd/platform/service.hpp"

#include <cstdio>

namespace plexd::platform {

namespace {
service_result unsupported() {
  return {service_error::unsupported, {}};
}
}  // namespace

bool service_manager_available() {
  return false;
}

bool valid_service_name(const std::string& name) {
  return !name.empty();
}

const char* service_state_name(service_state) {
  return "UNKNOWN";
}

service_result install_service(const service_spec&, std::string&) {
  return unsupported();
}
service_result start_service(const std::string&, service_status&) {
  return unsupported();
}
service_result stop_service(const std::string&, service_status&) {
  return unsupported();
}
service_result uninstall_service(const std::string&) {
  return unsupported();
}
service_result reload_service(const std::string&) {
  return unsupported();
}
service_result query_service(const std::string&, service_status&) {
  return unsupported();
}

std::string register_event_source(const std::string&) {
  return "not supported on this system";
}
void unregister_event_source(const std::string&) {}

std::string service_log_path(const std::string&) {
  return {};
}

int run_as_service(const std::string&, const std::function<int()>&) {
  std::fprintf(stderr, "plexd: service-run is only used by the Windows service manager\n");
  return 2;
}

}  // namespace plexd::platform
