// The Windows service manager primitives behind `plexd service ...`. The
// running side (ServiceMain) is in service_main.cpp.
//
// An installed service runs
//   "<abs path of plexd.exe>" service-run --name NAME -c "<abs config>"
// as the virtual account NT SERVICE\NAME (its own SID, no password, no
// rights beyond what is granted to it), or as LocalService where virtual
// accounts are not available. Never LocalSystem.
#include "plexd/platform/service.hpp"

#include <windows.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "service_state.hpp"
#include "win_util.hpp"

namespace plexd::platform {
namespace {

using namespace std::chrono_literals;

service_result service_failure(DWORD err) {
  switch (err) {
    case ERROR_ACCESS_DENIED:
      return {service_error::access_denied, {}};
    case ERROR_SERVICE_DOES_NOT_EXIST:
      return {service_error::not_installed, {}};
    case ERROR_SERVICE_EXISTS:
      return {service_error::exists, {}};
    case ERROR_DUPLICATE_SERVICE_NAME:
      return {service_error::display_name_taken, {}};
    case ERROR_SERVICE_MARKED_FOR_DELETE:
      return {service_error::marked_for_delete, {}};
    case ERROR_SERVICE_DISABLED:
      return {service_error::disabled, {}};
    case ERROR_SERVICE_NOT_ACTIVE:
      return {service_error::not_running, {}};
    case ERROR_SERVICE_ALREADY_RUNNING:
      return {service_error::already_running, {}};
    case ERROR_SERVICE_CANNOT_ACCEPT_CTRL:
      return {service_error::busy, {}};
    default:
      return {service_error::other, win::error_text(err)};
  }
}

service_result last_failure() {
  return service_failure(::GetLastError());
}

// The one way to reach an installed service: the manager handle must stay
// open as long as the service handle is used.
struct opened_service {
  win::sc_handle manager;
  win::sc_handle service;
};

service_result open_service(const std::string& name, DWORD access, opened_service& out) {
  out.manager.reset(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!out.manager) return last_failure();
  out.service.reset(::OpenServiceW(out.manager.get(), win::to_wide(name).c_str(), access));
  if (!out.service) return last_failure();
  return {};
}

service_state state_of(DWORD state) {
  switch (state) {
    case SERVICE_STOPPED:
      return service_state::stopped;
    case SERVICE_START_PENDING:
      return service_state::start_pending;
    case SERVICE_STOP_PENDING:
      return service_state::stop_pending;
    case SERVICE_RUNNING:
      return service_state::running;
    case SERVICE_CONTINUE_PENDING:
      return service_state::continue_pending;
    case SERVICE_PAUSE_PENDING:
      return service_state::pause_pending;
    case SERVICE_PAUSED:
      return service_state::paused;
    default:
      return service_state::unknown;
  }
}

bool is_pending(DWORD state) {
  return state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING || state == SERVICE_CONTINUE_PENDING ||
         state == SERVICE_PAUSE_PENDING;
}

bool query(SC_HANDLE service, SERVICE_STATUS_PROCESS& status) {
  DWORD needed = 0;
  return ::QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&status), sizeof status,
                                &needed) != FALSE;
}

void fill(const SERVICE_STATUS_PROCESS& raw, service_status& out) {
  out.state = state_of(raw.dwCurrentState);
  out.pid = raw.dwProcessId;
  out.exit_reason.clear();
  if (raw.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR) {
    out.exit_reason = "plexd exited with code " + std::to_string(raw.dwServiceSpecificExitCode);
  } else if (raw.dwWin32ExitCode != NO_ERROR) {
    out.exit_reason = win::error_text(raw.dwWin32ExitCode);
  }
}

// Waits until the service leaves its pending state. Gives up when the
// checkpoint stops moving for longer than the service's wait hint (at
// least 10 s), or after `limit` overall. The service's own checkpoint
// moves every second while it works, so a drain of any length is waited
// for, and a hung service is not.
service_result wait_settled(SC_HANDLE service, service_status& out, std::chrono::seconds limit) {
  SERVICE_STATUS_PROCESS status{};
  const auto start = std::chrono::steady_clock::now();
  if (!query(service, status)) return last_failure();
  DWORD checkpoint = status.dwCheckPoint;
  auto last_progress = start;
  while (is_pending(status.dwCurrentState)) {
    std::this_thread::sleep_for(200ms);
    if (!query(service, status)) return last_failure();
    const auto now = std::chrono::steady_clock::now();
    if (status.dwCheckPoint != checkpoint) {
      checkpoint = status.dwCheckPoint;
      last_progress = now;
    }
    const auto stall_limit = std::max<std::chrono::milliseconds>(10s, std::chrono::milliseconds(status.dwWaitHint));
    if (now - last_progress > stall_limit || now - start > limit) break;
  }
  fill(status, out);
  return is_pending(status.dwCurrentState) ? service_result{service_error::timed_out, {}} : service_result{};
}

service_result stop_opened(SC_HANDLE service, service_status& status) {
  SERVICE_STATUS plain{};
  if (!::ControlService(service, SERVICE_CONTROL_STOP, &plain)) {
    auto result = last_failure();
    // busy: already stopping (or still starting): wait for it below.
    if (result.error != service_error::busy) return result;
  }
  auto result = wait_settled(service, status, 300s);
  if (result.ok() && status.state != service_state::stopped) return {service_error::timed_out, {}};
  return result;
}

// What makes the service restartable, quiet and least-privileged; none
// of it is essential, so a failure here does not undo the install.
void configure(SC_HANDLE service, const std::wstring& description) {
  std::wstring text = description;
  SERVICE_DESCRIPTIONW desc{text.data()};
  ::ChangeServiceConfig2W(service, SERVICE_CONFIG_DESCRIPTION, &desc);
  // The service SID is what the named pipe and the data directory admit.
  SERVICE_SID_INFO sid{SERVICE_SID_TYPE_UNRESTRICTED};
  ::ChangeServiceConfig2W(service, SERVICE_CONFIG_SERVICE_SID_INFO, &sid);
  // Binding ports and writing logs needs no privileges: drop them all.
  wchar_t privileges[] = L"SeChangeNotifyPrivilege\0";
  SERVICE_REQUIRED_PRIVILEGES_INFOW required{privileges};
  ::ChangeServiceConfig2W(service, SERVICE_CONFIG_REQUIRED_PRIVILEGES_INFO, &required);
  // A crash (not a clean stop with an exit code) restarts it: 5 s, then
  // 30 s, then it stays down until the count resets after a day.
  SC_ACTION actions[] = {{SC_ACTION_RESTART, 5000}, {SC_ACTION_RESTART, 30000}, {SC_ACTION_NONE, 0}};
  SERVICE_FAILURE_ACTIONSW failure_actions{};
  failure_actions.dwResetPeriod = 86400;
  failure_actions.cActions = 3;
  failure_actions.lpsaActions = actions;
  ::ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &failure_actions);
}

service_start_type start_type_of(DWORD type) {
  switch (type) {
    case SERVICE_AUTO_START:
      return service_start_type::automatic;
    case SERVICE_DEMAND_START:
      return service_start_type::manual;
    case SERVICE_DISABLED:
      return service_start_type::disabled;
    default:
      return service_start_type::other;
  }
}

void query_config(SC_HANDLE service, service_status& out) {
  DWORD needed = 0;
  ::QueryServiceConfigW(service, nullptr, 0, &needed);
  if (needed == 0) return;
  std::vector<BYTE> buffer(needed);
  auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
  if (!::QueryServiceConfigW(service, config, needed, &needed)) return;
  out.start_type = start_type_of(config->dwStartType);
  if (config->lpServiceStartName != nullptr) out.account = win::to_utf8(config->lpServiceStartName);
  if (config->lpBinaryPathName != nullptr) out.command = win::to_utf8(config->lpBinaryPathName);
}

std::wstring eventlog_key(const std::string& name) {
  return L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\" + win::to_wide(name);
}
}  // namespace

bool service_manager_available() {
  return true;
}

bool valid_service_name(const std::string& name) {
  if (name.empty() || name.size() > 80) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

const char* service_state_name(service_state state) {
  switch (state) {
    case service_state::stopped:
      return "STOPPED";
    case service_state::start_pending:
      return "START_PENDING";
    case service_state::stop_pending:
      return "STOP_PENDING";
    case service_state::running:
      return "RUNNING";
    case service_state::continue_pending:
      return "CONTINUE_PENDING";
    case service_state::pause_pending:
      return "PAUSE_PENDING";
    case service_state::paused:
      return "PAUSED";
    default:
      return "UNKNOWN";
  }
}

service_result install_service(const service_spec& spec, std::string& account) {
  win::sc_handle manager(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE));
  if (!manager) return last_failure();
  const std::wstring name = win::to_wide(spec.name);
  const std::wstring config = win::to_wide(spec.config_path);
  const std::wstring command_line =
      L"\"" + win::module_path() + L"\" service-run --name " + name + L" -c \"" + config + L"\"";
  const std::wstring display = spec.name == "plexd" ? std::wstring(L"plexd") : L"plexd (" + name + L")";
  std::wstring wide_account = L"NT SERVICE\\" + name;
  auto create = [&] {
    return win::sc_handle(::CreateServiceW(
        manager.get(), name.c_str(), display.c_str(), SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
        SERVICE_ERROR_NORMAL, command_line.c_str(), nullptr, nullptr, nullptr, wide_account.c_str(), nullptr));
  };
  win::sc_handle service = create();
  if (!service) {
    const DWORD err = ::GetLastError();
    // Virtual accounts need Windows 7 / Server 2008 R2 and a domain-less
    // name lookup; where they cannot be used, LocalService is the next
    // least privileged built-in account.
    if (err != ERROR_INVALID_SERVICE_ACCOUNT && err != ERROR_INVALID_PARAMETER && err != ERROR_NONE_MAPPED) {
      return service_failure(err);
    }
    wide_account = L"NT AUTHORITY\\LocalService";
    service = create();
    if (!service) return last_failure();
  }
  configure(service.get(), L"plexd multi-port TCP daemon (config " + config + L")");
  account = win::to_utf8(wide_account);
  return {};
}

service_result start_service(const std::string& name, service_status& status) {
  opened_service s;
  if (auto r = open_service(name, SERVICE_START | SERVICE_QUERY_STATUS, s); !r.ok()) return r;
  if (!::StartServiceW(s.service.get(), 0, nullptr)) return last_failure();
  return wait_settled(s.service.get(), status, 120s);
}

service_result stop_service(const std::string& name, service_status& status) {
  opened_service s;
  if (auto r = open_service(name, SERVICE_STOP | SERVICE_QUERY_STATUS, s); !r.ok()) return r;
  return stop_opened(s.service.get(), status);
}

service_result uninstall_service(const std::string& name) {
  opened_service s;
  if (auto r = open_service(name, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE, s); !r.ok()) return r;
  service_status status;
  if (auto r = stop_opened(s.service.get(), status); !r.ok() && r.error != service_error::not_running) return r;
  if (!::DeleteService(s.service.get()) && ::GetLastError() != ERROR_SERVICE_MARKED_FOR_DELETE) return last_failure();
  return {};
}

service_result reload_service(const std::string& name) {
  opened_service s;
  // PARAMCHANGE needs SERVICE_PAUSE_CONTINUE access.
  if (auto r = open_service(name, SERVICE_PAUSE_CONTINUE | SERVICE_QUERY_STATUS, s); !r.ok()) return r;
  SERVICE_STATUS plain{};
  if (!::ControlService(s.service.get(), SERVICE_CONTROL_PARAMCHANGE, &plain)) return last_failure();
  return {};
}

service_result query_service(const std::string& name, service_status& status) {
  opened_service s;
  if (auto r = open_service(name, SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG, s); !r.ok()) return r;
  SERVICE_STATUS_PROCESS raw{};
  if (!query(s.service.get(), raw)) return last_failure();
  fill(raw, status);
  query_config(s.service.get(), status);
  return {};
}

// plexd.exe carries the message table (messages.mc), so Event Viewer can
// show each record's text.
std::string register_event_source(const std::string& name) {
  HKEY raw = nullptr;
  LSTATUS rc = ::RegCreateKeyExW(HKEY_LOCAL_MACHINE, eventlog_key(name).c_str(), 0, nullptr, 0, KEY_SET_VALUE, nullptr,
                                 &raw, nullptr);
  if (rc != ERROR_SUCCESS) return win::error_text(static_cast<DWORD>(rc));
  const win::registry_key key(raw);
  const std::wstring exe = win::module_path();
  const DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
  rc = ::RegSetValueExW(key.get(), L"EventMessageFile", 0, REG_EXPAND_SZ, reinterpret_cast<const BYTE*>(exe.c_str()),
                        static_cast<DWORD>((exe.size() + 1) * sizeof(wchar_t)));
  if (rc == ERROR_SUCCESS) {
    rc = ::RegSetValueExW(key.get(), L"TypesSupported", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&types),
                          sizeof types);
  }
  return rc == ERROR_SUCCESS ? std::string() : win::error_text(static_cast<DWORD>(rc));
}

void unregister_event_source(const std::string& name) {
  ::RegDeleteKeyW(HKEY_LOCAL_MACHINE, eventlog_key(name).c_str());
}

std::string service_log_path(const std::string& name) {
  return win::to_utf8(svc::service_log_path(win::to_wide(name)));
}

}  // namespace plexd::platform
