#include "crash_report.hpp"

#include <windows.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "eventlog_sink.hpp"
#include "win_util.hpp"

namespace plexd::platform::svc {
namespace {

// Set once, before any handler can run; read only by the handlers.
std::wstring& crash_source() {
  static std::wstring name;
  return name;
}

std::shared_ptr<spdlog::logger>& crash_log() {
  static std::shared_ptr<spdlog::logger> log;
  return log;
}

void log_fatal(const std::string& what) {
  const std::string text = "service " + win::to_utf8(crash_source()) + " crashed: " + what;
  win::report_event(crash_source(), EVENTLOG_ERROR_TYPE, text);
  if (auto& log = crash_log()) {
    log->critical("{}", text);
    log->flush();
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
}  // namespace

void install_crash_handlers(const std::wstring& service_name, std::shared_ptr<spdlog::logger> file_log) {
  crash_source() = service_name;
  crash_log() = std::move(file_log);
  std::set_terminate(on_terminate);
  std::signal(SIGABRT, on_abort_signal);
  ::SetUnhandledExceptionFilter(on_crash);
}

}  // namespace plexd::platform::svc
