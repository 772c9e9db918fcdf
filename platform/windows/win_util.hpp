// Private to platform/windows: UTF-8 <-> UTF-16, Win32 error texts and one
// owning wrapper for every kind of Win32 handle.
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

/// How each kind of handle is released and which values mean "none".
struct kernel_handle_traits {
  using native = HANDLE;
  static bool valid(HANDLE h) { return h != nullptr && h != INVALID_HANDLE_VALUE; }
  static void close(HANDLE h) { ::CloseHandle(h); }
};
struct service_handle_traits {
  using native = SC_HANDLE;
  static bool valid(SC_HANDLE h) { return h != nullptr; }
  static void close(SC_HANDLE h) { ::CloseServiceHandle(h); }
};
struct registry_key_traits {
  using native = HKEY;
  static bool valid(HKEY h) { return h != nullptr; }
  static void close(HKEY h) { ::RegCloseKey(h); }
};
struct local_memory_traits {
  using native = HLOCAL;
  static bool valid(HLOCAL h) { return h != nullptr; }
  static void close(HLOCAL h) { ::LocalFree(h); }
};

/// A handle that closes itself, for any of the traits above.
template <typename Traits>
class basic_handle {
 public:
  using native = typename Traits::native;

  basic_handle() = default;
  explicit basic_handle(native h) : h_(h) {}
  ~basic_handle() { reset(); }
  basic_handle(basic_handle&& other) noexcept : h_(other.release()) {}
  basic_handle& operator=(basic_handle&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  basic_handle(const basic_handle&) = delete;
  basic_handle& operator=(const basic_handle&) = delete;

  native get() const { return h_; }
  explicit operator bool() const { return Traits::valid(h_); }
  native release() {
    native h = h_;
    h_ = nullptr;
    return h;
  }
  void reset(native h = nullptr) {
    if (Traits::valid(h_)) Traits::close(h_);
    h_ = h;
  }

 private:
  native h_ = nullptr;
};

using unique_handle = basic_handle<kernel_handle_traits>;
using sc_handle = basic_handle<service_handle_traits>;
using registry_key = basic_handle<registry_key_traits>;
/// Memory the system allocated with LocalAlloc (security descriptors, ACLs, SID strings).
using local_memory = basic_handle<local_memory_traits>;

/// The user SID of a token, as "S-1-5-...", or "" if it cannot be read.
std::wstring token_user_sid(HANDLE token);

}  // namespace plexd::platform::win
