// `plexd check`: validate, bind nothing, one line per listener.
#include <cstdio>
#include <string>

#include "config_source.hpp"
#include "verbs.hpp"

namespace plexd::daemon {

int check_config(const cli_args& args) {
  const auto src = find_config(args.config_file);
  const auto loaded = load(src);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::fprintf(stderr, "%s: %zu error(s)\n", src.name().c_str(), loaded.errors.size());
    return 1;
  }
  const auto& cfg = loaded.cfg;
  std::printf("%s: ok (%s), %zu listener(s), control %s\n", src.name().c_str(), src.how.c_str(),
              cfg.listeners.size(), cfg.control.endpoint.empty() ? "off" : cfg.control.endpoint.c_str());
  if (cfg.backplane.enabled())
    std::printf("  backplane: redis %s%s, instance %s\n", cfg.backplane.describe().c_str(),
                cfg.backplane.password.empty() ? "" : " (with a password)",
                cfg.backplane.instance.empty() ? "HOST-PID" : cfg.backplane.instance.c_str());
  for (const auto& l : cfg.listeners) {
    std::printf("  %-16s %-24s %-8s max_connections=%zu idle_timeout=%lldms max_line=%zu max_output=%zu\n",
                l.name.c_str(), l.bind.to_string().c_str(), l.handler.c_str(), l.max_connections,
                static_cast<long long>(l.idle_timeout.count()), l.max_line, l.max_output);
  }
  return 0;
}

}  // namespace plexd::daemon
