// The SCM status of this process while it runs as a service. A pending
// state's checkpoint keeps moving (once a second, from its own thread) so
// service controllers, and `plexd service start|stop`, see progress while
// listeners open or connections drain, however long that takes.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "service_state.hpp"

namespace plexd::platform::svc {
namespace {

struct status_state {
  std::mutex mutex;
  std::condition_variable cv;
  SERVICE_STATUS_HANDLE handle = nullptr;
  SERVICE_STATUS status{};
  bool active = false;
  bool progress_done = false;
  std::thread progress;
};

status_state& state() {
  static status_state s;
  return s;
}

bool pending(DWORD st) {
  return st == SERVICE_START_PENDING || st == SERVICE_STOP_PENDING || st == SERVICE_CONTINUE_PENDING ||
         st == SERVICE_PAUSE_PENDING;
}

DWORD controls_for(DWORD st) {
  switch (st) {
    case SERVICE_START_PENDING:
      return SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN;
    case SERVICE_RUNNING:
      return SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE;
    default:
      return 0;
  }
}

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
}  // namespace

bool active() {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  return s.active;
}

void begin_status(SERVICE_STATUS_HANDLE handle) {
  auto& s = state();
  {
    std::lock_guard lock(s.mutex);
    s.handle = handle;
    s.status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    s.active = true;
  }
  report(SERVICE_START_PENDING, 10000);
  s.progress = std::thread(progress_loop);
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

void end_status(int exit_code) {
  auto& s = state();
  {
    std::lock_guard lock(s.mutex);
    s.progress_done = true;
  }
  s.cv.notify_all();
  if (s.progress.joinable()) s.progress.join();

  std::lock_guard lock(s.mutex);
  s.status.dwCurrentState = SERVICE_STOPPED;
  s.status.dwControlsAccepted = 0;
  s.status.dwCheckPoint = 0;
  s.status.dwWaitHint = 0;
  s.status.dwWin32ExitCode = exit_code == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
  s.status.dwServiceSpecificExitCode = exit_code == 0 ? 0 : static_cast<DWORD>(exit_code);
  s.active = false;
  ::SetServiceStatus(s.handle, &s.status);
}

}  // namespace plexd::platform::svc
