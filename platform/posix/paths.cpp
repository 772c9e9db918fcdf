#include "plexd/platform/paths.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace plexd::platform {

std::string default_config_path() {
  return "/etc/plexd/plexd.toml";
}

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// The runtime directory: systemd's RuntimeDirectory, /run/plexd for root,
// else the user's XDG runtime dir, else a private directory in /tmp.
std::string runtime_dir() {
  if (auto d = env("RUNTIME_DIRECTORY"); !d.empty()) {
    // systemd may list several, separated by ':'; the first is ours.
    return d.substr(0, d.find(':'));
  }
  if (::geteuid() == 0) return "/run/plexd";
  if (auto d = env("XDG_RUNTIME_DIR"); !d.empty()) return d + "/plexd";
  return "/tmp/plexd-" + std::to_string(::geteuid());
}
}  // namespace

std::string default_control_endpoint() {
  return "unix:" + runtime_dir() + "/control.sock";
}

std::string absolute_path(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

std::string system_name() {
  return "linux";
}

}  // namespace plexd::platform
