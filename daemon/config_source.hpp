// Which config a verb uses: -c FILE, else $PLEXD_CONFIG, else the system
// default path if it exists, else the built-in demo config.
#pragma once

#include <string>

#include "plexd/config/loader.hpp"

namespace plexd::daemon {

struct config_source {
  std::string path;  // "" for the built-in config
  std::string how;   // "-c", "$PLEXD_CONFIG", "system default", "built-in default"
  bool builtin() const { return path.empty(); }
  /// For messages: the path, or "<built-in>".
  std::string name() const { return path.empty() ? "<built-in>" : path; }
};

config_source find_config(const std::string& cli_path);

/// Loads the config from `src` (the built-in one needs no file).
config::load_result load(const config_source& src);

}  // namespace plexd::daemon
