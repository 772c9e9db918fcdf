#include "plexd/platform/paths.hpp"

#include <filesystem>

#include "win_util.hpp"

namespace plexd::platform {

std::string default_config_path() {
  return win::to_utf8(win::data_dir() + L"\\plexd.toml");
}

// A named pipe is per machine, not per user: two daemons started with the
// built-in config collide, and the second one says so.
std::string default_control_endpoint() {
  return "pipe:plexd";
}

std::string absolute_path(const std::string& path) {
  if (path.empty()) return path;
  // Through UTF-16: std::filesystem::path(std::string) would use the ANSI
  // code page.
  std::error_code ec;
  auto p = std::filesystem::absolute(std::filesystem::path(win::to_wide(path)), ec);
  return ec ? path : win::to_utf8(p.lexically_normal().wstring());
}

std::string system_name() {
  return "windows";
}

}  // namespace plexd::platform
