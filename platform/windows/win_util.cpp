#include "win_util.hpp"

#include <knownfolders.h>
#include <sddl.h>
#include <shlobj.h>

#include <vector>

namespace plexd::platform::win {

std::wstring to_wide(std::string_view utf8) {
  if (utf8.empty()) return {};
  const int n = ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

std::string to_utf8(std::wstring_view wide) {
  if (wide.empty()) return {};
  const int n =
      ::WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), out.data(), n, nullptr, nullptr);
  return out;
}

std::string error_text(DWORD code) {
  wchar_t* buffer = nullptr;
  const DWORD n =
      ::FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                       nullptr, code, 0, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
  std::wstring text = n != 0 && buffer != nullptr ? std::wstring(buffer, n) : std::wstring();
  if (buffer != nullptr) ::LocalFree(buffer);
  // "Access is denied.\r\n" -> "Access is denied"
  while (!text.empty() && std::wstring_view(L"\r\n. ").find(text.back()) != std::wstring_view::npos) text.pop_back();
  std::string out = text.empty() ? std::string("Windows error") : to_utf8(text);
  return out + " (error " + std::to_string(code) + ")";
}

std::wstring module_path() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (n < path.size()) {
      path.resize(n);
      return path;
    }
    path.resize(path.size() * 2);
  }
}

std::wstring data_dir() {
  std::wstring base;
  PWSTR known = nullptr;
  if (SUCCEEDED(::SHGetKnownFolderPath(FOLDERID_ProgramData, 0, nullptr, &known)) && known != nullptr) {
    base = known;
  }
  ::CoTaskMemFree(known);
  if (base.empty()) {
    // The environment is the fallback: it is set for services as well.
    wchar_t buf[MAX_PATH];
    const DWORD n = ::GetEnvironmentVariableW(L"ProgramData", buf, MAX_PATH);
    base = n > 0 && n < MAX_PATH ? std::wstring(buf, n) : std::wstring(L"C:\\ProgramData");
  }
  return base + L"\\plexd";
}

std::wstring token_user_sid(HANDLE token) {
  DWORD size = 0;
  ::GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  if (size == 0) return {};
  std::vector<BYTE> buffer(size);
  if (!::GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) return {};
  wchar_t* text = nullptr;
  if (!::ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &text)) return {};
  const local_memory owned(text);
  return text;
}

}  // namespace plexd::platform::win
