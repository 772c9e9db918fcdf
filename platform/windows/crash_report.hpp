// Private to platform/windows: a service that dies leaves a reason
// behind. An escaped exception, abort() or a crash is written to the
// service log and the Event Log before the process ends (the SCM then
// runs the failure actions set at install: restart).
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace plexd::platform::svc {

/// Installs the handlers for the rest of the process's life; `file_log`
/// is the service log file (may have no sinks).
void install_crash_handlers(const std::wstring& service_name, std::shared_ptr<spdlog::logger> file_log);

}  // namespace plexd::platform::svc
