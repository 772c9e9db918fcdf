// Windows child processes for the tests: CreateProcessW with stdio
// redirected to files.
//
// request_stop(): plexd listens for the named event
// "Local\plexd-stop-<pid>" (platform/windows/os_events.cpp), the
// programmatic Ctrl+C that works without a shared console, and so under
// Wine and from ctest. Before the daemon has created it (still starting)
// the child gets a CTRL_BREAK_EVENT for its own process group, which is
// what Ctrl+Break in a console would do. request_reload() sets
// "Local\plexd-reload-<pid>", Windows' stand-in for SIGHUP.
#include <windows.h>

#include <algorithm>
#include <cwchar>
#include <cwctype>
#include <map>
#include <mutex>
#include <stdexcept>

#include "harness.hpp"

namespace plexd::test {

bool running_under_wine() {
  // Wine's ntdll exports wine_get_version; Windows' does not.
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}
namespace {

std::wstring wide(const std::string& s) {
  if (s.empty()) return {};
  const int n = ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

// CommandLineToArgvW's rules: backslashes are literal unless they precede
// a quote.
std::wstring quote(const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) return arg;
  std::wstring out = L"\"";
  std::size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    if (c == L'"')
      out.append(backslashes * 2 + 1, L'\\');
    else
      out.append(backslashes, L'\\');
    backslashes = 0;
    out += c;
  }
  out.append(backslashes * 2, L'\\');
  return out + L"\"";
}

// The child's environment: ours, with `env` applied ("" removes a name).
// Windows names are case-insensitive and the block must be sorted.
std::wstring environment_block(const std::map<std::string, std::string>& env) {
  auto upper = [](std::wstring s) {
    for (auto& c : s) c = static_cast<wchar_t>(std::towupper(c));
    return s;
  };
  std::map<std::wstring, std::pair<std::wstring, std::wstring>> vars;  // UPPER -> (name, value)
  if (wchar_t* block = ::GetEnvironmentStringsW()) {
    for (const wchar_t* p = block; *p != L'\0'; p += std::wcslen(p) + 1) {
      std::wstring kv(p);
      const auto eq = kv.find(L'=', 1);  // "=C:=C:\\dir" entries start with '='
      if (eq == std::wstring::npos) continue;
      vars[upper(kv.substr(0, eq))] = {kv.substr(0, eq), kv.substr(eq + 1)};
    }
    ::FreeEnvironmentStringsW(block);
  }
  for (const auto& [k, v] : env) {
    const std::wstring name = wide(k);
    if (v.empty()) {
      vars.erase(upper(name));
    } else {
      vars[upper(name)] = {name, wide(v)};
    }
  }
  std::wstring out;
  for (const auto& [key, nv] : vars) out += nv.first + L"=" + nv.second + L'\0';
  out += L'\0';
  return out;
}

HANDLE open_for_child(const std::string& path, bool write) {
  SECURITY_ATTRIBUTES sa{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  const std::wstring name = path.empty() ? std::wstring(L"NUL") : wide(path);
  // Shared read/write/delete: the test reads the log while plexd writes it.
  HANDLE h = ::CreateFileW(name.c_str(), write ? GENERIC_WRITE : GENERIC_READ,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa,
                           write ? CREATE_ALWAYS : OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) throw std::runtime_error("cannot open " + path + " for a child process");
  return h;
}

bool set_named_event(const char* what, long pid) {
  const std::wstring name = L"Local\\plexd-" + wide(what) + L"-" + std::to_wstring(pid);
  HANDLE h = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, name.c_str());
  if (h == nullptr) return false;
  const bool ok = ::SetEvent(h) != FALSE;
  ::CloseHandle(h);
  return ok;
}

// Inheritable handles exist only while CreateProcess runs, one child at a
// time, so no child inherits another child's files.
std::mutex spawn_mutex;
}  // namespace

child_process::child_process(const std::string& exe, const std::vector<std::string>& args,
                             const std::string& stdout_file, const std::string& stderr_file,
                             const std::map<std::string, std::string>& env, const std::string& stdin_file) {
  std::wstring command_line = quote(wide(exe));
  for (const auto& a : args) command_line += L" " + quote(wide(a));
  std::wstring environment = environment_block(env);

  std::lock_guard lock(spawn_mutex);
  HANDLE in = open_for_child(stdin_file, false);
  HANDLE out = open_for_child(stdout_file, true);
  HANDLE err = open_for_child(stderr_file, true);
  STARTUPINFOW si{};
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = in;
  si.hStdOutput = out;
  si.hStdError = err;
  PROCESS_INFORMATION pi{};
  const std::wstring application = wide(exe);
  const BOOL ok =
      ::CreateProcessW(application.c_str(), command_line.data(), nullptr, nullptr, TRUE,
                       CREATE_UNICODE_ENVIRONMENT | CREATE_NEW_PROCESS_GROUP, environment.data(), nullptr, &si, &pi);
  const DWORD error = ::GetLastError();
  ::CloseHandle(in);
  ::CloseHandle(out);
  ::CloseHandle(err);
  if (!ok) throw std::runtime_error("CreateProcess " + exe + " failed: error " + std::to_string(error));
  ::CloseHandle(pi.hThread);
  handle_ = pi.hProcess;
  pid_ = static_cast<long>(pi.dwProcessId);
}

child_process::~child_process() {
  if (!exit_code_) {
    kill();
    wait_for(5s);
  }
  if (handle_ != nullptr) ::CloseHandle(static_cast<HANDLE>(handle_));
}

void child_process::request_stop() {
  asked_ = true;
  if (exit_code_) return;
  if (!set_named_event("stop", pid_)) {
    ::GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, static_cast<DWORD>(pid_));
  }
}

bool child_process::request_reload() {
  if (exit_code_) return false;
  return set_named_event("reload", pid_);
}

bool child_process::send_signal(int) {
  return false;
}

void child_process::kill() {
  asked_ = true;
  if (!exit_code_) ::TerminateProcess(static_cast<HANDLE>(handle_), 137);
}

std::optional<int> child_process::wait_for(ms timeout) {
  if (exit_code_) return exit_code_;
  const auto wait_ms = static_cast<DWORD>(std::max<long long>(0, timeout.count()));
  if (::WaitForSingleObject(static_cast<HANDLE>(handle_), wait_ms) != WAIT_OBJECT_0) return std::nullopt;
  DWORD code = 0;
  ::GetExitCodeProcess(static_cast<HANDLE>(handle_), &code);
  exit_code_ = static_cast<int>(code);
  return exit_code_;
}

}  // namespace plexd::test
