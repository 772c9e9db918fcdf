// Private to platform/windows: the SCM status of this process when it runs
// as a Windows service. service.cpp owns it; notify.cpp and log_sinks.cpp
// read and update it. Every function is a no-op outside a service.
#pragma once

#include <windows.h>

#include <string>

namespace plexd::platform::svc {

/// True between ServiceMain's registration and its final SERVICE_STOPPED.
bool active();

/// The service name (the Event Log source too), "" outside a service.
std::wstring name();

/// Reports `state` (SERVICE_START_PENDING, SERVICE_RUNNING, ...) with the
/// controls that fit it. A pending state is kept alive by a checkpoint
/// that goes up every second until the next state.
void report(DWORD state, DWORD wait_hint_ms = 0);

/// Reports SERVICE_STOPPED with the daemon's exit code.
void report_stopped(int exit_code);

}  // namespace plexd::platform::svc
