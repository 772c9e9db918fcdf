#include "status_doc.hpp"

#include <cmath>

#include "plexd/core/backplane.hpp"
#include "plexd/core/control.hpp"
#include "plexd/core/server.hpp"
#include "plexd/platform/backend.hpp"
#include "plexd/platform/process.hpp"
#include "version.hpp"

namespace plexd::daemon {
namespace {

core::json::array upstreams_json(const std::vector<core::upstream_status>& list) {
  core::json::array out;
  for (const auto& u : list) {
    out.push_back(core::json::object{{"address", u.address},
                                     {"state", u.state},
                                     {"active", u.active},
                                     {"connects", u.connects},
                                     {"connect_failures", u.connect_failures},
                                     {"bytes_up", u.bytes_up},
                                     {"bytes_down", u.bytes_down}});
  }
  return out;
}

core::json::array listeners_json(const core::server& server) {
  core::json::array listeners;
  for (const auto& l : server.status()) {
    core::json::object refused_by;
    for (const auto& [k, v] : l.refused_by) refused_by[k] = v;
    core::json::object entry{{"name", l.name},         {"bind", l.bind},
                             {"handler", l.handler},   {"state", l.state},
                             {"active", l.active},     {"accepted", l.accepted},
                             {"refused", l.refused},   {"refused_by", std::move(refused_by)},
                             {"bytes_in", l.bytes_in}, {"bytes_out", l.bytes_out},
                             {"errors", l.errors}};
    if (l.handler == "forward") entry["upstreams"] = upstreams_json(l.upstreams);
    listeners.push_back(std::move(entry));
  }
  return listeners;
}

core::json::value backplane_json(const core::backplane* backplane) {
  const auto b = backplane != nullptr ? backplane->status() : core::backplane_status{};
  return core::json::object{{"state", b.state},         {"redis", b.redis},          {"instance", b.instance},
                            {"published", b.published}, {"received", b.received},    {"reconnects", b.reconnects},
                            {"dropped", b.dropped},     {"last_error", b.last_error}};
}

}  // namespace

core::json::value status_document(const core::server& server, const core::backplane* backplane,
                                  const daemon_facts& facts) {
  return core::json::object{
      {"version", version},
      {"pid", platform::current_pid()},
      {"uptime_s", std::round(facts.uptime.count() * 10) / 10},
      {"config_file", facts.config_file},
      {"config_generation", facts.config_generation},
      {"last_reload", facts.last_reload != nullptr ? *facts.last_reload : core::json::value{}},
      {"threads", server.threads()},
      {"backend", platform::asio_backend()},
      {"control", facts.control},
      {"listeners", listeners_json(server)},
      {"backplane", backplane_json(backplane)},
  };
}

core::json::value reload_document(reload_outcome outcome, const std::vector<std::string>& errors) {
  core::json::array list(errors.begin(), errors.end());
  return core::json::object{{"ok", outcome == reload_outcome::applied},
                            {"applied", outcome != reload_outcome::rejected},
                            {"at", core::iso_time(std::chrono::system_clock::now())},
                            {"errors", std::move(list)}};
}

}  // namespace plexd::daemon
