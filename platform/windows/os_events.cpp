// Windows: Ctrl+C, Ctrl+Break and closing the console window stop the
// daemon; a service control (service.cpp) arrives through request_stop()
// and request_reload(). There is no SIGHUP, so reload is `plexd reload`,
// the PARAMCHANGE service control, or the named event below.
//
// Named events "Local\plexd-stop-<pid>" and "Local\plexd-reload-<pid>":
// console control events only reach processes that share a console, which
// a process started by a test harness or another program (and anything
// under Wine without a console) does not. Setting one of these events is
// the programmatic equivalent of SIGTERM/SIGHUP. They live in the session's
// Local namespace with the default DACL of the daemon's token, so only the
// same user (and SYSTEM/Administrators) can open them: the same people who
// could kill the process. An event of that name that exists before the
// daemon creates it was made by somebody else (its pid is new), who could
// then stop or reload the daemon at will: such an event is not used, and
// the daemon logs an error saying so.
#include "plexd/platform/os_events.hpp"

#include <windows.h>

#include <string>

#include <spdlog/spdlog.h>
#include <asio/windows/object_handle.hpp>

#include "../common/requests.hpp"
#include "win_util.hpp"

namespace plexd::platform {
namespace {

BOOL WINAPI on_console_event(DWORD type) {
  switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
      request_stop();
      return TRUE;
    case CTRL_CLOSE_EVENT:
      // Windows ends the process when this handler returns (and after 5 s
      // regardless): give the loop that time to say goodbye and drain.
      request_stop();
      ::Sleep(4500);
      return TRUE;
    default:
      // CTRL_LOGOFF_EVENT / CTRL_SHUTDOWN_EVENT reach services only: a
      // user logging off must not stop the service, and shutdown arrives
      // as SERVICE_CONTROL_SHUTDOWN through the service handler.
      return TRUE;
  }
}

HANDLE make_event(const char* what) {
  const std::wstring name = L"Local\\plexd-" + win::to_wide(what) + L"-" + std::to_wstring(::GetCurrentProcessId());
  HANDLE h = ::CreateEventW(nullptr, FALSE, FALSE, name.c_str());
  const DWORD err = ::GetLastError();
  if (h != nullptr && err != ERROR_ALREADY_EXISTS) return h;
  if (h != nullptr) ::CloseHandle(h);
  if (err == ERROR_ALREADY_EXISTS || err == ERROR_ACCESS_DENIED) {
    const bool stop = std::string_view(what) == "stop";
    spdlog::error("the {} event {} was created by another process before plexd: not using it ({})", what,
                  win::to_utf8(name),
                  stop ? "stop with Ctrl+C, the service manager or `plexd service stop`"
                       : "reload with `plexd reload` or the service manager");
  } else {
    spdlog::warn("cannot create the {} event {}: {}", what, win::to_utf8(name), win::error_text(err));
  }
  return nullptr;
}
}  // namespace

struct os_events::impl {
  detail::request_target target;
  asio::windows::object_handle stop_event;
  asio::windows::object_handle reload_event;

  impl(asio::io_context& io, callback stop, callback reload)
      : target{&io, std::move(stop), std::move(reload)}, stop_event(io), reload_event(io) {
    asio::error_code ec;
    if (HANDLE h = make_event("stop")) stop_event.assign(h, ec);
    if (HANDLE h = make_event("reload")) reload_event.assign(h, ec);
    wait(stop_event, detail::request::stop);
    wait(reload_event, detail::request::reload);
    // A process started with CREATE_NEW_PROCESS_GROUP has Ctrl+C ignored
    // until it asks for it again.
    ::SetConsoleCtrlHandler(nullptr, FALSE);
    ::SetConsoleCtrlHandler(on_console_event, TRUE);
    detail::set_request_target(&target);
  }

  void wait(asio::windows::object_handle& handle, detail::request what) {
    if (!handle.is_open()) return;
    handle.async_wait([this, &handle, what](const asio::error_code& ec) {
      if (ec) return;  // cancelled: the loop is shutting down
      if (what == detail::request::stop) {
        target.on_stop();
      } else {
        target.on_reload();
      }
      wait(handle, what);
    });
  }
};

os_events::os_events(asio::io_context& io, callback on_stop, callback on_reload)
    : impl_(std::make_unique<impl>(io, std::move(on_stop), std::move(on_reload))) {}

os_events::~os_events() {
  ::SetConsoleCtrlHandler(on_console_event, FALSE);
  detail::set_request_target(nullptr);
  asio::error_code ignored;
  impl_->stop_event.close(ignored);
  impl_->reload_event.close(ignored);
}

// No reload signal to ignore here: reload arrives as an event or control.
void ignore_reload_signal() {}

}  // namespace plexd::platform
