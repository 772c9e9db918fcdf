// One function per verb; each returns the process exit code
// (0 ok, 1 failed, 2 bad usage).
#pragma once

#include "cli.hpp"

namespace plexd::daemon {

int run_daemon(const cli_args& args);
int check_config(const cli_args& args);
int query_status(const cli_args& args);
int show_logs(const cli_args& args);
int request_reload(const cli_args& args);
int connect_client(const cli_args& args);
int service_verb(const cli_args& args);

}  // namespace plexd::daemon
