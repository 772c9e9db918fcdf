// The service side of plexd.exe: `plexd service-run --name NAME -c FILE`
// is what the SCM starts. ServiceMain reports START_PENDING (with a moving
// checkpoint) while the daemon opens its listeners, RUNNING when the daemon
// calls notify_ready(), and SERVICE_STOPPED with the daemon's exit code as
// a service-specific code when it ends. Controls: STOP and SHUTDOWN stop
// gracefully (chat goodbyes, drain), PARAMCHANGE reloads.
//
// A service has no console, so the reason for a failed start would be lost
// (Mosquitto's "started then stopped" with no reason): plexd's stderr is
// captured into the service log file, warnings and errors go to the Event
// Log (Application, source NAME) and to that file, and a failed start ends
// with one Event Log error that carries the captured text.
#include <fcntl.h>
#include <io.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

#include <spdlog/logger.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>

#include "eventlog_sink.hpp"
#include "plexd/platform/os_events.hpp"
#include "plexd/platform/service.hpp"
#include "service_state.hpp"
#include "win_util.hpp"

namespace plexd::platform::svc {
namespace {

struct state_t {
  std::mutex mutex;
  std::condition_variable cv;
  SERVICE_STATUS_HANDLE handle = nullptr;
  SERVICE_STATUS status{};
  bool active = false;
  bool progress_done = false;
  std::wstring name;
  const std::function<int()>* run = nullptr;
  int exit_code = 1;
  std::shared_ptr<spdlog::sinks::dist_sink_mt> daemon_sink;  // what make_service_sink() returns
  std::shared_ptr<spdlog::logger> file_log;                  // the service log file only
};

state_t& state() {
  static state_t s;
  return s;
}

bool pending(DWORD st) {
  return st == SERVICE_START_PENDING || st == SERVICE_STOP_PENDING || st == SERVICE_CONTINUE_PENDING ||
         st == SERVICE_PAUSE_PENDING;
}

DWORD controls_for(DWORD st) {
  switch (st) {
    case SERVICE_START_PENDING: return SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN;
    case SERVICE_RUNNING: return SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE;
    default: return 0;
  }
}

// Keeps a pending state's checkpoint moving so service controllers (and
// `plexd service start|stop`) see progress while listeners open or
// connections drain.
void progress_loop() {
  auto& s = state();
  std::unique_lock lock(s.mutex);
  while (!s.progress_done) {
    s.cv.wait_for(lock, std::chrono::seconds(1));
    if (!s.progress_done && s.handle != nullptr && pending(s.status.dwCurrentState)) {
      ++s.status.dwCheckPoint;
      ::SetServiceStatus(s.handle, &s.status);
    }
  }
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
  auto& s = state();
  const std::wstring path = service_log_path(s.name);
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
  s.file_log = std::make_shared<spdlog::logger>("service", file_sinks.begin(), file_sinks.end());
  s.file_log->set_level(spdlog::level::info);
  s.file_log->flush_on(spdlog::level::info);

  auto sink = std::make_shared<spdlog::sinks::dist_sink_mt>(file_sinks);
  sink->add_sink(std::make_shared<win::eventlog_sink>(s.name));
  sink->set_level(spdlog::level::warn);
  s.daemon_sink = sink;
}

// A service starts without standard handles, and the C runtime then
// leaves stderr without a descriptor (_fileno == -2): everything printed
// to it is dropped. freopen gives it one where the runtime allows that;
// Wine's msvcrt refuses, so for MinGW's msvcrt (whose FILE layout is
// public) the stream is pointed at descriptor 2 directly.
bool give_stderr_a_descriptor() {
  if (::_fileno(stderr) >= 0) return true;
  if (std::freopen("NUL", "w", stderr) != nullptr && ::_fileno(stderr) >= 0) return true;
#if defined(__MINGW32__) && !defined(_UCRT)
  const int nul = ::_open("NUL", _O_WRONLY | _O_BINARY);
  if (nul < 0) return false;
  if (nul != 2) {
    ::_dup2(nul, 2);
    ::_close(nul);
  }
  stderr->_file = 2;
  stderr->_flag = _IOWRT;
  return ::_fileno(stderr) == 2;
#else
  return false;
#endif
}

// Redirects the C runtime's stderr (and STD_ERROR_HANDLE) into a pipe that
// a thread copies, line by line, into the service log and a buffer.
class stderr_capture {
 public:
  void start() {
    HANDLE read_end = nullptr;
    HANDLE write_end = nullptr;
    if (!::CreatePipe(&read_end, &write_end, nullptr, 0)) return;
    read_end_.reset(read_end);
    const int fd = ::_open_osfhandle(reinterpret_cast<intptr_t>(write_end), _O_WRONLY | _O_BINARY);
    if (fd < 0) {
      ::CloseHandle(write_end);
      return;
    }
    std::fflush(stderr);
    if (!give_stderr_a_descriptor()) {
      ::_close(fd);
      return;
    }
    target_ = ::_fileno(stderr);
    ::_dup2(fd, target_);
    if (target_ != 2) ::_dup2(fd, 2);
    ::_close(fd);
    std::setvbuf(stderr, nullptr, _IONBF, 0);
    ::SetStdHandle(STD_ERROR_HANDLE, reinterpret_cast<HANDLE>(::_get_osfhandle(target_)));
    reader_ = std::thread([this] { read_loop(); });
  }

  /// Ends the capture; returns everything that was captured (bounded).
  std::string stop() {
    if (!reader_.joinable()) return {};
    std::fflush(stderr);
    // Pointing fd 2 at NUL closes the pipe's last write end: the reader
    // sees end of file.
    const int nul = ::_open("NUL", _O_WRONLY);
    if (nul >= 0) {
      ::_dup2(nul, target_);
      if (target_ != 2) ::_dup2(nul, 2);
      ::_close(nul);
    }
    ::SetStdHandle(STD_ERROR_HANDLE, reinterpret_cast<HANDLE>(::_get_osfhandle(target_)));
    reader_.join();
    return captured_;
  }

 private:
  void read_loop() {
    std::string partial;
    char buf[4096];
    DWORD got = 0;
    while (::ReadFile(read_end_.get(), buf, sizeof buf, &got, nullptr) && got > 0) {
      partial.append(buf, got);
      std::size_t nl;
      while ((nl = partial.find('\n')) != std::string::npos) {
        line(partial.substr(0, nl));
        partial.erase(0, nl + 1);
      }
    }
    if (!partial.empty()) line(partial);
  }

  void line(std::string text) {
    while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) text.pop_back();
    if (text.empty()) return;
    state().file_log->error("{}", text);
    if (captured_.size() < 16 * 1024) captured_ += text + "\n";
  }

  win::unique_handle read_end_;
  int target_ = 2;  // stderr's descriptor
  std::thread reader_;
  std::string captured_;
};

// A service that dies leaves a reason behind: an escaped exception or a
// crash is written to the service log and the Event Log before the process
// ends (the SCM then runs the failure actions set at install: restart).
void log_fatal(const std::string& what) {
  auto& s = state();
  const std::string text = "service " + win::to_utf8(s.name) + " crashed: " + what;
  win::report_event(s.name, EVENTLOG_ERROR_TYPE, text);
  if (s.file_log) {
    s.file_log->critical("{}", text);
    s.file_log->flush();
  }
}

[[noreturn]] void on_terminate() {
  std::string what = "std::terminate";
  if (auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what += ": uncaught exception: " + std::string(ex.what());
    } catch (...) {
      what += ": uncaught exception of unknown type";
    }
  }
  log_fatal(what);
  // Not abort(): the C runtime of a process without a console would show
  // a message box and wait for a click that never comes, leaving the
  // service hung in its last state instead of letting the SCM restart it.
  ::TerminateProcess(::GetCurrentProcess(), 3);
  std::_Exit(3);
}

void on_abort_signal(int) {
  log_fatal("abort() was called");
  ::TerminateProcess(::GetCurrentProcess(), 3);
}

LONG WINAPI on_crash(EXCEPTION_POINTERS* info) {
  char text[96];
  std::snprintf(text, sizeof text, "unhandled exception 0x%08lx at %p",
                static_cast<unsigned long>(info->ExceptionRecord->ExceptionCode),
                info->ExceptionRecord->ExceptionAddress);
  log_fatal(text);
  return EXCEPTION_CONTINUE_SEARCH;
}

void WINAPI service_main(DWORD, LPWSTR*) {
  auto& s = state();
  SERVICE_STATUS_HANDLE handle = ::RegisterServiceCtrlHandlerExW(s.name.c_str(), control_handler, nullptr);
  if (handle == nullptr) {
    win::report_event(s.name, EVENTLOG_ERROR_TYPE,
                      "plexd: cannot register the service control handler: " + win::error_text(::GetLastError()));
    s.exit_code = 1;
    return;
  }
  {
    std::lock_guard lock(s.mutex);
    s.handle = handle;
    s.status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    s.active = true;
  }
  report(SERVICE_START_PENDING, 10000);
  std::thread progress(progress_loop);
  open_logs();
  s.file_log->info("service {} starting: {}", win::to_utf8(s.name), win::to_utf8(::GetCommandLineW()));
  std::set_terminate(on_terminate);
  std::signal(SIGABRT, on_abort_signal);
  ::SetUnhandledExceptionFilter(on_crash);

  stderr_capture capture;
  capture.start();
  int code = 1;
  try {
    code = (*s.run)();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plexd: fatal: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "plexd: fatal: unknown exception\n");
  }
  const std::string captured = capture.stop();

  const std::string name = win::to_utf8(s.name);
  if (code != 0) {
    std::string text = "service " + name + " stopped: plexd exited with code " + std::to_string(code);
    text += captured.empty() ? std::string(" (the reason is in the error records logged just before)")
                             : ":\n" + captured;
    text += "\nService log: " + win::to_utf8(service_log_path(s.name));
    s.file_log->error("service {} stopped: plexd exited with code {}", name, code);
    win::report_event(s.name, EVENTLOG_ERROR_TYPE, text);
  } else {
    s.file_log->info("service {} stopped", name);
  }
  s.file_log->flush();

  {
    std::lock_guard lock(s.mutex);
    s.progress_done = true;
  }
  s.cv.notify_all();
  progress.join();

  std::lock_guard lock(s.mutex);
  s.exit_code = code;
  s.status.dwCurrentState = SERVICE_STOPPED;
  s.status.dwControlsAccepted = 0;
  s.status.dwCheckPoint = 0;
  s.status.dwWaitHint = 0;
  s.status.dwWin32ExitCode = code == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
  s.status.dwServiceSpecificExitCode = code == 0 ? 0 : static_cast<DWORD>(code);
  s.active = false;
  // After this the SCM may end the process at any moment.
  ::SetServiceStatus(s.handle, &s.status);
}
}  // namespace

bool active() {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  return s.active;
}

std::wstring name() {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  return s.active ? s.name : std::wstring();
}

void report(DWORD st, DWORD wait_hint_ms) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.active || s.handle == nullptr) return;
  // A stop under way is not undone by a late "ready" (e.g. a stop that
  // arrived while the listeners were still opening).
  if (s.status.dwCurrentState == SERVICE_STOP_PENDING && st != SERVICE_STOPPED) st = SERVICE_STOP_PENDING;
  if (pending(st)) {
    s.status.dwCheckPoint = s.status.dwCurrentState == st ? s.status.dwCheckPoint + 1 : 1;
  } else {
    s.status.dwCheckPoint = 0;
  }
  s.status.dwCurrentState = st;
  s.status.dwControlsAccepted = controls_for(st);
  s.status.dwWaitHint = pending(st) ? wait_hint_ms : 0;
  s.status.dwWin32ExitCode = NO_ERROR;
  ::SetServiceStatus(s.handle, &s.status);
}

spdlog::sink_ptr log_sink() {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.active) return nullptr;
  return s.daemon_sink;
}

std::wstring service_log_path(const std::wstring& service_name) {
  return win::data_dir() + L"\\logs\\" + service_name + L"-service.log";
}

}  // namespace plexd::platform::svc

namespace plexd::platform {

int run_as_service(const std::string& name, const std::function<int()>& run_daemon) {
  auto& s = svc::state();
  s.name = win::to_wide(name);
  s.run = &run_daemon;
  SERVICE_TABLE_ENTRYW table[] = {{s.name.data(), svc::service_main}, {nullptr, nullptr}};
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
  return s.exit_code;
}

}  // namespace plexd::platform
