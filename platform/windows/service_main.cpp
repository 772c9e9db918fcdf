// The service side of plexd.exe: `plexd service-run --name NAME -c FILE`
// is what the SCM starts. ServiceMain reports START_PENDING while the
// daemon opens its listeners, RUNNING when the daemon calls notify_ready(),
// and SERVICE_STOPPED with the daemon's exit code as a service-specific
// code when it ends (service_status.cpp). Controls: STOP and SHUTDOWN stop
// gracefully (chat goodbyes, drain), PARAMCHANGE reloads.
//
// A service has no console, so the reason for a failed start would be lost
// ("started then stopped" with no reason): plexd's stderr is captured into
// the service log file (stderr_capture.cpp), warnings and errors go to the
// Event Log (Application, source NAME) and to that file, a failed start
// ends with one Event Log error that carries the captured text, and a
// crash is reported the same way (crash_report.cpp).
#include <cstdio>
#include <exception>
#include <filesystem>
#include <mutex>
#include <vector>

#include <spdlog/logger.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>

#include "crash_report.hpp"
#include "eventlog_sink.hpp"
#include "plexd/platform/os_events.hpp"
#include "plexd/platform/service.hpp"
#include "service_state.hpp"
#include "stderr_capture.hpp"
#include "win_util.hpp"

namespace plexd::platform::svc {
namespace {

// Set by run_as_service before the SCM calls service_main.
struct service_run {
  std::wstring name;
  const std::function<int()>* run = nullptr;
  int exit_code = 1;
  std::mutex sink_mutex;
  std::shared_ptr<spdlog::sinks::dist_sink_mt> daemon_sink;  // what make_service_sink() returns
  std::shared_ptr<spdlog::logger> file_log;                  // the service log file only
};

service_run& current() {
  static service_run r;
  return r;
}

DWORD WINAPI control_handler(DWORD control, DWORD, LPVOID, LPVOID) {
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
      report(SERVICE_STOP_PENDING, 10000);
      // Delivered once the daemon's loop exists, even if that is later.
      request_stop();
      return NO_ERROR;
    case SERVICE_CONTROL_PARAMCHANGE:
      request_reload();
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

void open_logs() {
  auto& r = current();
  const std::wstring path = service_log_path(r.name);
  std::vector<spdlog::sink_ptr> file_sinks;
  try {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    // Bounded: warnings during an attack must not fill the disk.
    auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(win::to_utf8(path), 1024 * 1024, 3);
    file->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l: %v");
    file_sinks.push_back(file);
  } catch (const std::exception&) {
    // No write access (install grants it): the Event Log still works.
  }
  r.file_log = std::make_shared<spdlog::logger>("service", file_sinks.begin(), file_sinks.end());
  r.file_log->set_level(spdlog::level::info);
  r.file_log->flush_on(spdlog::level::info);

  auto sink = std::make_shared<spdlog::sinks::dist_sink_mt>(file_sinks);
  sink->add_sink(std::make_shared<win::eventlog_sink>(r.name));
  sink->set_level(spdlog::level::warn);
  std::lock_guard lock(r.sink_mutex);
  r.daemon_sink = sink;
}

int run_daemon_captured() {
  auto& r = current();
  stderr_capture capture([&r](const std::string& line) { r.file_log->error("{}", line); });
  capture.start();
  int code = 1;
  try {
    code = (*r.run)();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plexd: fatal: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "plexd: fatal: unknown exception\n");
  }
  const std::string captured = capture.stop();
  const std::string name = win::to_utf8(r.name);
  if (code != 0) {
    std::string text = "service " + name + " stopped: plexd exited with code " + std::to_string(code);
    text +=
        captured.empty() ? std::string(" (the reason is in the error records logged just before)") : ":\n" + captured;
    text += "\nService log: " + win::to_utf8(service_log_path(r.name));
    r.file_log->error("service {} stopped: plexd exited with code {}", name, code);
    win::report_event(r.name, EVENTLOG_ERROR_TYPE, text);
  } else {
    r.file_log->info("service {} stopped", name);
  }
  r.file_log->flush();
  return code;
}

void WINAPI service_main(DWORD, LPWSTR*) {
  auto& r = current();
  SERVICE_STATUS_HANDLE handle = ::RegisterServiceCtrlHandlerExW(r.name.c_str(), control_handler, nullptr);
  if (handle == nullptr) {
    win::report_event(r.name, EVENTLOG_ERROR_TYPE,
                      "plexd: cannot register the service control handler: " + win::error_text(::GetLastError()));
    r.exit_code = 1;
    return;
  }
  begin_status(handle);
  open_logs();
  r.file_log->info("service {} starting: {}", win::to_utf8(r.name), win::to_utf8(::GetCommandLineW()));
  install_crash_handlers(r.name, r.file_log);
  r.exit_code = run_daemon_captured();
  end_status(r.exit_code);
}
}  // namespace

spdlog::sink_ptr log_sink() {
  if (!active()) return nullptr;
  auto& r = current();
  std::lock_guard lock(r.sink_mutex);
  return r.daemon_sink;
}

std::wstring service_log_path(const std::wstring& service_name) {
  return win::data_dir() + L"\\logs\\" + service_name + L"-service.log";
}

}  // namespace plexd::platform::svc

namespace plexd::platform {

int run_as_service(const std::string& name, const std::function<int()>& run_daemon) {
  auto& r = svc::current();
  r.name = win::to_wide(name);
  r.run = &run_daemon;
  SERVICE_TABLE_ENTRYW table[] = {{r.name.data(), svc::service_main}, {nullptr, nullptr}};
  if (!::StartServiceCtrlDispatcherW(table)) {
    const DWORD err = ::GetLastError();
    if (err == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      std::fprintf(stderr,
                   "plexd: service-run is started by the Windows service manager only.\n"
                   "To run in the foreground: plexd run -c FILE\n");
      return 2;
    }
    std::fprintf(stderr, "plexd: cannot connect to the service manager: %s\n", win::error_text(err).c_str());
    return 1;
  }
  return r.exit_code;
}

}  // namespace plexd::platform
