#include "config_source.hpp"

#include <cstdlib>
#include <filesystem>

#include "plexd/platform/paths.hpp"

namespace plexd::daemon {

config_source find_config(const std::string& cli_path) {
  // Absolute paths: a service's working directory is / or C:\Windows, and
  // a reload must find the same file whatever the current directory.
  if (!cli_path.empty()) return {platform::absolute_path(cli_path), "-c"};
  if (const char* env = std::getenv("PLEXD_CONFIG"); env != nullptr && *env != '\0') {
    return {platform::absolute_path(env), "$PLEXD_CONFIG"};
  }
  const auto system = platform::default_config_path();
  std::error_code ec;
  if (std::filesystem::exists(system, ec)) return {system, "system default"};
  return {"", "built-in default"};
}

config::load_result load(const config_source& src) {
  if (src.builtin()) {
    config::load_result r;
    r.cfg = config::builtin_config(platform::default_control_endpoint());
    return r;
  }
  auto result = config::load_config_file(src.path);
  if (result.ok() && !result.cfg.control.endpoint_set) {
    result.cfg.control.endpoint = platform::default_control_endpoint();
  }
  return result;
}

}  // namespace plexd::daemon
