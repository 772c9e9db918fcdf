// `plexd service install|uninstall|start|stop|status|reload`: drives the
// Windows service manager. The running side (ServiceMain) is in
// service_main.cpp.
//
// An installed service runs
//   "<abs path of plexd.exe>" service-run --name NAME -c "<abs config>"
// as the virtual account NT SERVICE\NAME (its own SID, no password, no
// rights beyond what is granted to it), or as LocalService where virtual
// accounts are not available. Never LocalSystem.
#include "plexd/platform/service.hpp"

#include <windows.h>

#include <aclapi.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

#include "plexd/config/loader.hpp"
#include "plexd/platform/paths.hpp"
#include "service_state.hpp"
#include "win_util.hpp"

namespace plexd::platform {
namespace {

using namespace std::chrono_literals;

class sc_handle {
 public:
  explicit sc_handle(SC_HANDLE h = nullptr) : h_(h) {}
  ~sc_handle() {
    if (h_ != nullptr) ::CloseServiceHandle(h_);
  }
  sc_handle(sc_handle&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  sc_handle& operator=(sc_handle&& other) noexcept {
    if (this != &other) {
      if (h_ != nullptr) ::CloseServiceHandle(h_);
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }
  SC_HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  SC_HANDLE h_;
};

struct command {
  const service_request& request;
  std::wstring name;

  int fail(const std::string& message) const {
    std::fprintf(stderr, "plexd service %s: %s\n", request.verb.c_str(), message.c_str());
    return 1;
  }

  // The common mistakes get a sentence that says what to do.
  std::string explain(DWORD err) const {
    switch (err) {
      case ERROR_ACCESS_DENIED:
        return "access denied: run this from an elevated prompt (Run as administrator)";
      case ERROR_SERVICE_DOES_NOT_EXIST:
        return "no service named '" + request.name + "' is installed (plexd service install --name " +
               request.name + " -c FILE)";
      case ERROR_SERVICE_EXISTS:
        return "a service named '" + request.name +
               "' already exists: uninstall it first, or choose another --name";
      case ERROR_DUPLICATE_SERVICE_NAME:
        return "another service already uses the display name of '" + request.name + "': choose another --name";
      case ERROR_SERVICE_MARKED_FOR_DELETE:
        return "service '" + request.name +
               "' is marked for deletion: close the Services console and any program that has it open, "
               "then try again";
      case ERROR_SERVICE_DISABLED:
        return "service '" + request.name + "' is disabled (sc config " + request.name + " start= auto)";
      default:
        return win::error_text(err);
    }
  }

  sc_handle open_manager(DWORD access) const {
    return sc_handle(::OpenSCManagerW(nullptr, nullptr, access));
  }

  sc_handle open_service(SC_HANDLE manager, DWORD access) const {
    return sc_handle(::OpenServiceW(manager, name.c_str(), access));
  }
};

bool valid_service_name(const std::string& name) {
  if (name.empty() || name.size() > 80) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

const char* state_name(DWORD state) {
  switch (state) {
    case SERVICE_STOPPED: return "STOPPED";
    case SERVICE_START_PENDING: return "START_PENDING";
    case SERVICE_STOP_PENDING: return "STOP_PENDING";
    case SERVICE_RUNNING: return "RUNNING";
    case SERVICE_CONTINUE_PENDING: return "CONTINUE_PENDING";
    case SERVICE_PAUSE_PENDING: return "PAUSE_PENDING";
    case SERVICE_PAUSED: return "PAUSED";
    default: return "UNKNOWN";
  }
}

bool query(SC_HANDLE service, SERVICE_STATUS_PROCESS& status) {
  DWORD needed = 0;
  return ::QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&status), sizeof status,
                                &needed) != FALSE;
}

bool is_pending(DWORD state) {
  return state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING || state == SERVICE_CONTINUE_PENDING ||
         state == SERVICE_PAUSE_PENDING;
}

// Waits until the service leaves its pending state. Gives up when the
// checkpoint stops moving for longer than the service's wait hint (at
// least 10 s), or after `limit` overall. The service's own checkpoint
// moves every second while it works, so a drain of any length is waited
// for, and a hung service is not.
bool wait_settled(SC_HANDLE service, SERVICE_STATUS_PROCESS& status, std::chrono::seconds limit) {
  const auto start = std::chrono::steady_clock::now();
  if (!query(service, status)) return false;
  DWORD checkpoint = status.dwCheckPoint;
  auto last_progress = start;
  while (is_pending(status.dwCurrentState)) {
    std::this_thread::sleep_for(200ms);
    if (!query(service, status)) return false;
    const auto now = std::chrono::steady_clock::now();
    if (status.dwCheckPoint != checkpoint) {
      checkpoint = status.dwCheckPoint;
      last_progress = now;
    }
    const auto stall_limit = std::max<std::chrono::milliseconds>(10s, std::chrono::milliseconds(status.dwWaitHint));
    if (now - last_progress > stall_limit || now - start > limit) return false;
  }
  return true;
}

std::string exit_text(const SERVICE_STATUS_PROCESS& status) {
  if (status.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR) {
    return "plexd exited with code " + std::to_string(status.dwServiceSpecificExitCode);
  }
  if (status.dwWin32ExitCode != NO_ERROR) return win::error_text(status.dwWin32ExitCode);
  return {};
}

// ---- files and registry ----------------------------------------------------

std::uintmax_t file_size(const std::wstring& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(std::filesystem::path(path), ec);
  return ec ? 0 : n;
}

std::string read_from(const std::wstring& path, std::uintmax_t offset) {
  std::ifstream in(std::filesystem::path(path), std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::erase(text, '\r');
  return text;
}

// Gives `account` modify rights on `dir` and everything created in it.
std::string grant_modify(const std::wstring& dir, const std::wstring& account) {
  EXPLICIT_ACCESSW access{};
  ::BuildExplicitAccessWithNameW(&access, const_cast<LPWSTR>(account.c_str()),
                                 FILE_GENERIC_READ | FILE_GENERIC_WRITE | FILE_GENERIC_EXECUTE | DELETE,
                                 GRANT_ACCESS, SUB_CONTAINERS_AND_OBJECTS_INHERIT);
  PACL old_acl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  DWORD err = ::GetNamedSecurityInfoW(dir.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                                      &old_acl, nullptr, &descriptor);
  if (err != ERROR_SUCCESS) return win::error_text(err);
  PACL new_acl = nullptr;
  err = ::SetEntriesInAclW(1, &access, old_acl, &new_acl);
  if (err == ERROR_SUCCESS) {
    err = ::SetNamedSecurityInfoW(const_cast<LPWSTR>(dir.c_str()), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
                                  nullptr, nullptr, new_acl, nullptr);
  }
  if (new_acl != nullptr) ::LocalFree(new_acl);
  if (descriptor != nullptr) ::LocalFree(descriptor);
  return err == ERROR_SUCCESS ? std::string() : win::error_text(err);
}

std::wstring eventlog_key(const std::wstring& name) {
  return L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\" + name;
}

// The Event Log source: plexd.exe carries the message table (messages.mc),
// so Event Viewer can show each record's text.
std::string register_event_source(const std::wstring& name, const std::wstring& exe) {
  HKEY key = nullptr;
  LSTATUS rc = ::RegCreateKeyExW(HKEY_LOCAL_MACHINE, eventlog_key(name).c_str(), 0, nullptr, 0, KEY_SET_VALUE,
                                 nullptr, &key, nullptr);
  if (rc != ERROR_SUCCESS) return win::error_text(static_cast<DWORD>(rc));
  const DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
  rc = ::RegSetValueExW(key, L"EventMessageFile", 0, REG_EXPAND_SZ, reinterpret_cast<const BYTE*>(exe.c_str()),
                        static_cast<DWORD>((exe.size() + 1) * sizeof(wchar_t)));
  if (rc == ERROR_SUCCESS) {
    rc = ::RegSetValueExW(key, L"TypesSupported", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&types), sizeof types);
  }
  ::RegCloseKey(key);
  return rc == ERROR_SUCCESS ? std::string() : win::error_text(static_cast<DWORD>(rc));
}

// ---- verbs -------------------------------------------------------------------

int install(const command& cmd) {
  const auto& request = cmd.request;
  const std::string config_path =
      absolute_path(request.config_file.empty() ? default_config_path() : request.config_file);
  // Refuse a config that would make the service stop right after its start.
  auto loaded = config::load_config_file(config_path);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return cmd.fail(config_path + ": config is invalid; service not installed");
  }

  sc_handle manager = cmd.open_manager(SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
  if (!manager) return cmd.fail(cmd.explain(::GetLastError()));

  const std::wstring exe = win::module_path();
  const std::wstring command_line = L"\"" + exe + L"\" service-run --name " + cmd.name + L" -c \"" +
                                    win::to_wide(config_path) + L"\"";
  const std::wstring display = request.name == "plexd" ? std::wstring(L"plexd") : L"plexd (" + cmd.name + L")";
  std::wstring account = L"NT SERVICE\\" + cmd.name;
  auto create = [&] {
    return sc_handle(::CreateServiceW(manager.get(), cmd.name.c_str(), display.c_str(), SERVICE_ALL_ACCESS,
                                      SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL,
                                      command_line.c_str(), nullptr, nullptr, nullptr, account.c_str(), nullptr));
  };
  sc_handle service = create();
  if (!service) {
    const DWORD err = ::GetLastError();
    // Virtual accounts need Windows 7 / Server 2008 R2 and a domain-less
    // name lookup; where they cannot be used, LocalService is the next
    // least privileged built-in account.
    if (err != ERROR_INVALID_SERVICE_ACCOUNT && err != ERROR_INVALID_PARAMETER && err != ERROR_NONE_MAPPED) {
      return cmd.fail(cmd.explain(err));
    }
    account = L"NT AUTHORITY\\LocalService";
    service = create();
    if (!service) return cmd.fail(cmd.explain(::GetLastError()));
  }

  std::wstring description = L"plexd multi-port TCP daemon (config " + win::to_wide(config_path) + L")";
  SERVICE_DESCRIPTIONW desc{description.data()};
  ::ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_DESCRIPTION, &desc);
  // The service SID is what the named pipe and the log directory admit.
  SERVICE_SID_INFO sid{SERVICE_SID_TYPE_UNRESTRICTED};
  ::ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_SERVICE_SID_INFO, &sid);
  // Binding ports and writing logs needs no privileges: drop them all.
  wchar_t privileges[] = L"SeChangeNotifyPrivilege\0";
  SERVICE_REQUIRED_PRIVILEGES_INFOW required{privileges};
  ::ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_REQUIRED_PRIVILEGES_INFO, &required);
  // A crash (not a clean stop with an exit code) restarts it: 5 s, then
  // 30 s, then it stays down until the count resets after a day.
  SC_ACTION actions[] = {{SC_ACTION_RESTART, 5000}, {SC_ACTION_RESTART, 30000}, {SC_ACTION_NONE, 0}};
  SERVICE_FAILURE_ACTIONSW failure{};
  failure.dwResetPeriod = 86400;
  failure.cActions = 3;
  failure.lpsaActions = actions;
  ::ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_FAILURE_ACTIONS, &failure);

  // The log directory: the service log (service_main.cpp) and a natural
  // place for [daemon] log_file. Only this account may write there.
  const std::wstring log_dir = win::data_dir() + L"\\logs";
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(log_dir), ec);
  if (ec) {
    std::fprintf(stderr, "plexd service install: warning: cannot create %s: %s\n", win::to_utf8(log_dir).c_str(),
                 ec.message().c_str());
  } else if (auto err = grant_modify(log_dir, account); !err.empty()) {
    std::fprintf(stderr, "plexd service install: warning: cannot give %s write access to %s: %s\n",
                 win::to_utf8(account).c_str(), win::to_utf8(log_dir).c_str(), err.c_str());
  }
  if (auto err = register_event_source(cmd.name, exe); !err.empty()) {
    std::fprintf(stderr, "plexd service install: warning: cannot register the Event Log source: %s\n", err.c_str());
  }

  if (request.name != "plexd" && loaded.cfg.control.endpoint == "pipe:plexd") {
    std::fprintf(stderr,
                 "plexd service install: note: %s uses control endpoint pipe:plexd; give each instance its own\n"
                 "  [control] endpoint = \"pipe:%s\" so they can run side by side\n",
                 config_path.c_str(), request.name.c_str());
  }
  std::printf("installed service %s (account %s, start automatic)\n  config: %s\n  service log: %s\n"
              "start it with: plexd service start --name %s\n",
              request.name.c_str(), win::to_utf8(account).c_str(), config_path.c_str(),
              win::to_utf8(svc::service_log_path(cmd.name)).c_str(), request.name.c_str());
  return 0;
}

int stop_service(const command& cmd, SC_HANDLE service, bool quiet_if_stopped) {
  SERVICE_STATUS_PROCESS status{};
  SERVICE_STATUS plain{};
  if (!::ControlService(service, SERVICE_CONTROL_STOP, &plain)) {
    const DWORD err = ::GetLastError();
    if (err == ERROR_SERVICE_NOT_ACTIVE) {
      if (!quiet_if_stopped) std::printf("service %s is not running\n", cmd.request.name.c_str());
      return 0;
    }
    if (err != ERROR_SERVICE_CANNOT_ACCEPT_CTRL) return cmd.fail(cmd.explain(err));
    // Already stopping (or still starting): wait for it below.
  }
  if (!wait_settled(service, status, 300s) || status.dwCurrentState != SERVICE_STOPPED) {
    return cmd.fail("service " + cmd.request.name + " did not stop (state " + state_name(status.dwCurrentState) +
                    ")");
  }
  const std::string why = exit_text(status);
  std::printf("service %s stopped%s%s\n", cmd.request.name.c_str(), why.empty() ? "" : ": ", why.c_str());
  return 0;
}

int uninstall(const command& cmd) {
  sc_handle manager = cmd.open_manager(SC_MANAGER_CONNECT);
  if (!manager) return cmd.fail(cmd.explain(::GetLastError()));
  sc_handle service = cmd.open_service(manager.get(), SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
  if (!service) return cmd.fail(cmd.explain(::GetLastError()));
  if (int rc = stop_service(cmd, service.get(), true); rc != 0) return rc;
  if (!::DeleteService(service.get())) {
    const DWORD err = ::GetLastError();
    if (err != ERROR_SERVICE_MARKED_FOR_DELETE) return cmd.fail(cmd.explain(err));
  }
  ::RegDeleteKeyW(HKEY_LOCAL_MACHINE, eventlog_key(cmd.name).c_str());
  std::printf("removed service %s (its config and logs in %s are kept)\n", cmd.request.name.c_str(),
              win::to_utf8(win::data_dir()).c_str());
  return 0;
}

int start(const command& cmd) {
  sc_handle manager = cmd.open_manager(SC_MANAGER_CONNECT);
  if (!manager) return cmd.fail(cmd.explain(::GetLastError()));
  sc_handle service = cmd.open_service(manager.get(), SERVICE_START | SERVICE_QUERY_STATUS);
  if (!service) return cmd.fail(cmd.explain(::GetLastError()));
  const std::wstring log_path = svc::service_log_path(cmd.name);
  const auto log_offset = file_size(log_path);
  if (!::StartServiceW(service.get(), 0, nullptr)) {
    const DWORD err = ::GetLastError();
    if (err == ERROR_SERVICE_ALREADY_RUNNING) {
      std::printf("service %s is already running\n", cmd.request.name.c_str());
      return 0;
    }
    return cmd.fail(cmd.explain(err));
  }
  SERVICE_STATUS_PROCESS status{};
  const bool settled = wait_settled(service.get(), status, 120s);
  if (settled && status.dwCurrentState == SERVICE_RUNNING) {
    std::printf("service %s is running (pid %lu)\n", cmd.request.name.c_str(), status.dwProcessId);
    return 0;
  }
  if (!settled) {
    return cmd.fail("service " + cmd.request.name + " is still " + state_name(status.dwCurrentState) +
                    "; see plexd service status --name " + cmd.request.name);
  }
  // It stopped during start-up: say why, from what the service logged.
  std::string why = exit_text(status);
  std::fprintf(stderr, "plexd service start: service %s failed to start%s%s\n", cmd.request.name.c_str(),
               why.empty() ? "" : ": ", why.c_str());
  const std::string log = read_from(log_path, log_offset);
  if (!log.empty()) std::fprintf(stderr, "%s", log.c_str());
  std::fprintf(stderr, "(service log: %s; also in the Event Log: Application, source %s)\n",
               win::to_utf8(log_path).c_str(), cmd.request.name.c_str());
  return 1;
}

int stop(const command& cmd) {
  sc_handle manager = cmd.open_manager(SC_MANAGER_CONNECT);
  if (!manager) return cmd.fail(cmd.explain(::GetLastError()));
  sc_handle service = cmd.open_service(manager.get(), SERVICE_STOP | SERVICE_QUERY_STATUS);
  if (!service) return cmd.fail(cmd.explain(::GetLastError()));
  return stop_service(cmd, service.get(), false);
}

int reload(const command& cmd) {
  sc_handle manager = cmd.open_manager(SC_MANAGER_CONNECT);
  if (!manager) return cmd.fail(cmd.explain(::GetLastError()));
  // PARAMCHANGE needs SERVICE_PAUSE_CONTINUE access.
  sc_handle service = cmd.open_service(manager.get(), SERVICE_PAUSE_CONTINUE | SERVICE_QUERY_STATUS);
  if (!service) return cmd.fail(cmd.explain(::GetLastError()));
  SERVICE_STATUS plain{};
  if (!::ControlService(service.get(), SERVICE_CONTROL_PARAMCHANGE, &plain)) {
    const DWORD err = ::GetLastError();
    if (err == ERROR_SERVICE_NOT_ACTIVE) return cmd.fail("service " + cmd.request.name + " is not running");
    if (err == ERROR_SERVICE_CANNOT_ACCEPT_CTRL) {
      return cmd.fail("service " + cmd.request.name + " cannot reload now (it is starting or stopping)");
    }
    return cmd.fail(cmd.explain(err));
  }
  std::printf("reload requested from service %s; the outcome is in `plexd status` (last_reload) and the log.\n"
              "(`plexd reload -c FILE` reloads and waits for the result.)\n",
              cmd.request.name.c_str());
  return 0;
}

int status(const command& cmd) {
  sc_handle manager = cmd.open_manager(SC_MANAGER_CONNECT);
  if (!manager) return cmd.fail(cmd.explain(::GetLastError()));
  sc_handle service = cmd.open_service(manager.get(), SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG);
  if (!service) return cmd.fail(cmd.explain(::GetLastError()));
  SERVICE_STATUS_PROCESS st{};
  if (!query(service.get(), st)) return cmd.fail(cmd.explain(::GetLastError()));
  std::string state = state_name(st.dwCurrentState);
  if (st.dwProcessId != 0) state += " (pid " + std::to_string(st.dwProcessId) + ")";
  std::printf("service %s: %s\n", cmd.request.name.c_str(), state.c_str());
  if (st.dwCurrentState == SERVICE_STOPPED) {
    if (auto why = exit_text(st); !why.empty()) std::printf("  last exit:    %s\n", why.c_str());
  }
  DWORD needed = 0;
  ::QueryServiceConfigW(service.get(), nullptr, 0, &needed);
  std::vector<BYTE> buffer(needed);
  auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
  if (needed != 0 && ::QueryServiceConfigW(service.get(), config, needed, &needed)) {
    const char* start_type = config->dwStartType == SERVICE_AUTO_START     ? "automatic"
                             : config->dwStartType == SERVICE_DEMAND_START ? "manual"
                             : config->dwStartType == SERVICE_DISABLED     ? "disabled"
                                                                           : "boot/system";
    std::printf("  start type:   %s\n", start_type);
    if (config->lpServiceStartName != nullptr) {
      std::printf("  account:      %s\n", win::to_utf8(config->lpServiceStartName).c_str());
    }
    if (config->lpBinaryPathName != nullptr) {
      std::printf("  command:      %s\n", win::to_utf8(config->lpBinaryPathName).c_str());
    }
  }
  std::printf("  service log:  %s\n", win::to_utf8(svc::service_log_path(cmd.name)).c_str());
  return 0;
}
}  // namespace

int service_command(const service_request& request) {
  if (!valid_service_name(request.name)) {
    std::fprintf(stderr, "plexd service: bad --name '%s' (letters, digits, '-' and '_', at most 80)\n",
                 request.name.c_str());
    return 2;
  }
  const command cmd{request, win::to_wide(request.name)};
  if (request.verb == "install") return install(cmd);
  if (request.verb == "uninstall") return uninstall(cmd);
  if (request.verb == "start") return start(cmd);
  if (request.verb == "stop") return stop(cmd);
  if (request.verb == "status") return status(cmd);
  if (request.verb == "reload") return reload(cmd);
  std::fprintf(stderr, "plexd service: unknown action '%s' (install|uninstall|start|stop|status|reload)\n",
               request.verb.c_str());
  return 2;
}

}  // namespace plexd::platform
