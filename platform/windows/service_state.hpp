// Private to platform/windows: the SCM status of this process when it runs
// as a Windows service. service.cpp owns it; notify.cpp and log_sinks.cpp
// read and update it. Every function is a no-op outside a service.
#pragma once

#include <windows.h>

#include <string>

#include <spdlog/sinks/sink.h>

namespace plexd::platform::svc {

/// True between ServiceMain's registration and its final SERVICE_STOPPED.
bool active();

/// The service name (the Event Log source too), "" outside a service.
std::wstring name();

/// Reports `state` (SERVICE_START_PENDING, SERVICE_RUNNING, ...) with the
/// controls that fit it. A pending state is kept alive by a checkpoint
/// that goes up every second until the next state.
void report(DWORD state, DWORD wait_hint_ms = 0);

/// Warnings and up, to the Event Log and the service log file
/// (service_log_path); nullptr outside a service.
spdlog::sink_ptr log_sink();

/// %ProgramData%\plexd\logs\NAME-service.log: the service wrapper's own
/// record (start, stop, exit code), anything plexd printed before its
/// logging was set up (config errors), and every warning and error.
std::wstring service_log_path(const std::wstring& service_name);

}  // namespace plexd::platform::svc
