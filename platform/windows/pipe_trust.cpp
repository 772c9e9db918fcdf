#include "pipe_trust.hpp"

#include <aclapi.h>
#include <sddl.h>

#include <vector>

#include "win_util.hpp"

namespace plexd::platform::win {
namespace {

constexpr const wchar_t* administrators_sid = L"S-1-5-32-544";

std::wstring sid_text(PSID sid) {
  wchar_t* text = nullptr;
  if (sid == nullptr || !::ConvertSidToStringSidW(sid, &text)) return {};
  const local_memory owned(text);
  return text;
}

std::string account_of(const std::wstring& sid_string) {
  PSID sid = nullptr;
  if (!::ConvertStringSidToSidW(sid_string.c_str(), &sid)) return to_utf8(sid_string);
  const local_memory owned(sid);
  wchar_t name[256];
  wchar_t domain[256];
  DWORD name_size = 256;
  DWORD domain_size = 256;
  SID_NAME_USE use{};
  if (!::LookupAccountSidW(nullptr, sid, name, &name_size, domain, &domain_size, &use)) return to_utf8(sid_string);
  return to_utf8(domain_size > 0 ? std::wstring(domain) + L"\\" + name : std::wstring(name));
}

bool has_enabled_administrators(HANDLE token) {
  DWORD size = 0;
  ::GetTokenInformation(token, TokenGroups, nullptr, 0, &size);
  if (size == 0) return false;
  std::vector<BYTE> buffer(size);
  if (!::GetTokenInformation(token, TokenGroups, buffer.data(), size, &size)) return false;
  const auto* groups = reinterpret_cast<const TOKEN_GROUPS*>(buffer.data());
  for (DWORD i = 0; i < groups->GroupCount; ++i) {
    const auto& g = groups->Groups[i];
    // In a filtered (non-elevated) token the group is deny-only.
    const bool enabled = (g.Attributes & SE_GROUP_ENABLED) != 0 && (g.Attributes & SE_GROUP_USE_FOR_DENY_ONLY) == 0;
    if (enabled && ::IsWellKnownSid(g.Sid, WinBuiltinAdministratorsSid)) return true;
  }
  return false;
}

// The token of process `pid`; false when it cannot be opened.
bool read_process(unsigned long pid, pipe_server_identity& who) {
  const unique_handle process(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
  if (!process) return false;
  wchar_t image[MAX_PATH];
  DWORD image_size = MAX_PATH;
  if (::QueryFullProcessImageNameW(process.get(), 0, image, &image_size)) who.image = to_utf8(image);
  HANDLE raw = nullptr;
  if (!::OpenProcessToken(process.get(), TOKEN_QUERY, &raw)) return false;
  const unique_handle token(raw);
  who.user_sid = token_user_sid(token.get());
  who.administrator = has_enabled_administrators(token.get());
  return !who.user_sid.empty();
}

// Only its creator (or someone who may take ownership) sets a pipe's owner.
void read_pipe_owner(HANDLE pipe, pipe_server_identity& who) {
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR raw = nullptr;
  if (::GetSecurityInfo(pipe, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr, nullptr, nullptr, &raw) ==
      ERROR_SUCCESS) {
    const local_memory descriptor(raw);
    who.user_sid = sid_text(owner);
  }
}

std::wstring own_sid() {
  HANDLE raw = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &raw)) return {};
  const unique_handle token(raw);
  return token_user_sid(token.get());
}
}  // namespace

pipe_server_trust classify_pipe_server(const std::wstring& server_sid, elevation server_elevation,
                                       const std::wstring& client_sid) {
  if (server_sid.empty()) return pipe_server_trust::unknown;
  if (server_sid == L"S-1-5-18") return pipe_server_trust::system_account;
  if (server_sid == L"S-1-5-19" || server_sid.rfind(L"S-1-5-80-", 0) == 0) return pipe_server_trust::service_account;
  if (server_elevation == elevation::administrator || server_sid == administrators_sid)
    return pipe_server_trust::administrator;
  if (!client_sid.empty() && server_sid == client_sid) return pipe_server_trust::same_user;
  return pipe_server_trust::untrusted;
}

pipe_server_identity identify_pipe_server(HANDLE pipe) {
  pipe_server_identity who;
  ULONG pid = 0;
  if (::GetNamedPipeServerProcessId(pipe, &pid)) who.pid = pid;
  if (who.pid == 0 || !read_process(who.pid, who)) read_pipe_owner(pipe, who);
  if (!who.user_sid.empty()) who.user = account_of(who.user_sid);
  return who;
}

std::string describe(const pipe_server_identity& who) {
  std::string text = who.pid != 0 ? "process " + std::to_string(who.pid) : std::string("a process");
  if (!who.image.empty()) text += " (" + who.image + ")";
  text += who.user.empty() ? std::string(" of an unknown account") : " running as " + who.user;
  return text;
}

std::string check_pipe_server(HANDLE pipe, const std::string& name) {
  const auto who = identify_pipe_server(pipe);
  const auto trust =
      classify_pipe_server(who.user_sid, who.administrator ? elevation::administrator : elevation::standard, own_sid());
  if (trust == pipe_server_trust::unknown) {
    return "cannot tell who serves pipe:" + name + " (" + describe(who) + "): not trusting it";
  }
  if (trust != pipe_server_trust::untrusted) return {};
  return "pipe:" + name + " is served by " + describe(who) +
         ", which is not a plexd service (SYSTEM, LocalService, NT SERVICE\\...), an administrator or you: "
         "refusing to use it (another program may have taken the pipe name)";
}

std::string describe_pipe_holder(const std::wstring& path) {
  const unique_handle pipe(::CreateFileW(path.c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING,
                                         SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr));
  if (!pipe) return {};
  return " by " + describe(identify_pipe_server(pipe.get()));
}

}  // namespace plexd::platform::win
