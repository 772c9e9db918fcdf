// Private to platform/windows: UTF-8 <-> UTF-16 and Win32 error texts.
// plexd keeps every string in UTF-8 and converts at the Win32 boundary, so
// the code page of the machine never matters.
#pragma once

#include <windows.h>

#include <string>
#include <string_view>

namespace plexd::platform::win {

std::wstring to_wide(std::string_view utf8);
std::string to_utf8(std::wstring_view wide);

/// FormatMessage for a Win32 error code, without the trailing ".\r\n",
/// followed by the code: "Access is denied (error 5)".
std::string error_text(DWORD code);

/// The full path of the running executable.
std::wstring module_path();

/// %ProgramData%\plexd (not created).
std::wstring data_dir();

/// A HANDLE that closes itself.
class unique_handle {
 public:
  unique_handle() = default;
  explicit unique_handle(HANDLE h) : h_(h) {}
  ~unique_handle() { reset(); }
  unique_handle(unique_handle&& other) noexcept : h_(other.release()) {}
  unique_handle& operator=(unique_handle&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  unique_handle(const unique_handle&) = delete;
  unique_handle& operator=(const unique_handle&) = delete;

  HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr && h_ != INVALID_HANDLE_VALUE; }
  HANDLE release() {
    HANDLE h = h_;
    h_ = nullptr;
    return h;
  }
  void reset(HANDLE h = nullptr) {
    if (*this) ::CloseHandle(h_);
    h_ = h;
  }

 private:
  HANDLE h_ = nullptr;
};

}  // namespace plexd::platform::win
