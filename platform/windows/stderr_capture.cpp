#include "stderr_capture.hpp"

#include <fcntl.h>
#include <io.h>

#include <cstdio>

namespace plexd::platform::svc {
namespace {

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

constexpr std::size_t capture_limit = 16 * 1024;
}  // namespace

void stderr_capture::start() {
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

std::string stderr_capture::stop() {
  if (!reader_.joinable()) return captured_;
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

void stderr_capture::read_loop() {
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

void stderr_capture::line(std::string text) {
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) text.pop_back();
  if (text.empty()) return;
  on_line_(text);
  if (captured_.size() < capture_limit) captured_ += text + "\n";
}

}  // namespace plexd::platform::svc
