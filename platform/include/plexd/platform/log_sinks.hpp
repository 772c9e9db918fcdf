// Where log records go that depends on the system.
#pragma once

#include <spdlog/sinks/sink.h>

namespace plexd::platform {

/// The console sink: stderr. Under systemd ($JOURNAL_STREAM) each line gets
/// a <N> priority prefix and no timestamp, since journald adds its own.
spdlog::sink_ptr make_console_sink();

/// The sink operators check when a service fails to start: the Windows
/// Event Log (warnings and up) when running as a service, else nullptr.
spdlog::sink_ptr make_service_sink();

}  // namespace plexd::platform
