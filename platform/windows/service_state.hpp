// Private to platform/windows: this process as a Windows service. The SCM
// status (service_status.cpp) is set by service_main.cpp and updated by
// notify.cpp; log_sinks.cpp asks for the service's log sink. Every
// function is a no-op (or returns nothing) outside a service.
#pragma once

#include <windows.h>

#include <string>

#include <spdlog/sinks/sink.h>

namespace plexd::platform::svc {

/// True between ServiceMain's registration and its final SERVICE_STOPPED.
bool active();

/// Starts reporting to the SCM through `handle`: START_PENDING, with a
/// checkpoint that goes up every second while a state is pending.
void begin_status(SERVICE_STATUS_HANDLE handle);

/// Reports `state` (SERVICE_START_PENDING, SERVICE_RUNNING, ...) with the
/// controls that fit it.
void report(DWORD state, DWORD wait_hint_ms = 0);

/// The final SERVICE_STOPPED, carrying the daemon's exit code as a
/// service-specific code when it is not 0. The SCM may end the process
/// at any moment after this.
void end_status(int exit_code);

/// Warnings and up, to the Event Log and the service log file
/// (service_log_path); nullptr outside a service.
spdlog::sink_ptr log_sink();

/// %ProgramData%\plexd\logs\NAME-service.log: the service wrapper's own
/// record (start, stop, exit code), anything plexd printed before its
/// logging was set up (config errors), and every warning and error.
std::wstring service_log_path(const std::wstring& service_name);

}  // namespace plexd::platform::svc
