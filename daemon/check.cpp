// `plexd check`: validate, bind nothing, one line per listener.
#include <cstdio>
#include <string>
#include <variant>

#include "config_source.hpp"
#include "verbs.hpp"

namespace plexd::daemon {

namespace {
// The upstreams of a forward listener, under its line.
void print_forward(const config::forward_options& f) {
  static constexpr const char* balances[] = {"round_robin", "least_conn", "first"};
  std::string list;
  for (const auto& u : f.upstreams) list += (list.empty() ? "" : ", ") + u.to_string();
  std::printf("    -> %s (balance %s, health_check %lldms)\n", list.c_str(), balances[static_cast<int>(f.balance_mode)],
              static_cast<long long>(f.health_check.count()));
}
}  // namespace

int check_config(const cli_args& args) {
  const auto src = find_config(args.config_file);
  const auto loaded = load(src);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::fprintf(stderr, "%s: %zu error(s)\n", src.name().c_str(), loaded.errors.size());
    return 1;
  }
  const auto& cfg = loaded.cfg;
  std::printf("%s: ok (%s), %zu listener(s), control %s\n", src.name().c_str(), src.how.c_str(), cfg.listeners.size(),
              cfg.control.endpoint.empty() ? "off" : cfg.control.endpoint.c_str());
  if (cfg.backplane.enabled())
    std::printf("  backplane: redis %s%s, instance %s\n", cfg.backplane.describe().c_str(),
                cfg.backplane.password.empty() ? "" : " (with a password)",
                cfg.backplane.instance.empty() ? "HOST-PID" : cfg.backplane.instance.c_str());
  for (const auto& l : cfg.listeners) {
    std::printf("  %-16s %-24s %-8s max_connections=%zu idle_timeout=%lldms max_line=%zu max_output=%zu\n",
                l.name.c_str(), l.bind.to_string().c_str(), l.handler.c_str(), l.max_connections,
                static_cast<long long>(l.idle_timeout.count()), l.max_line, l.max_output);
    if (const auto* f = std::get_if<config::forward_options>(&l.options)) print_forward(*f);
    if (l.accept_proxy && l.proxy_from.empty()) {
      // Valid, but then any client can claim any address: worth a word, not a failure.
      std::fprintf(stderr, "%s:%d:%d: warning: listener '%s': accept_proxy is on but proxy_from is empty\n",
                   src.name().c_str(), l.line, l.column, l.name.c_str());
    }
  }
  return 0;
}

}  // namespace plexd::daemon
