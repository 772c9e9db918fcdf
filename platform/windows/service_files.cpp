// Owners and access lists of the service's data directory
// (%ProgramData%\plexd). By default it would inherit ProgramData's list, in
// which every user may create files and folders: a user could then plant a
// config or log file before the service exists. Install replaces the list
// by a protected one and refuses paths a non-administrator owns.
#include "plexd/platform/service_files.hpp"

#include <windows.h>

#include <aclapi.h>
#include <bcrypt.h>
#include <sddl.h>

#include <cwctype>
#include <filesystem>
#include <vector>

#include "win_util.hpp"

namespace plexd::platform {
namespace {

// NT SERVICE\TrustedInstaller, which owns system files.
constexpr const wchar_t* trusted_installer_sid = L"S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";

using sid_memory = win::local_memory;  // a SID from ConvertStringSidToSidW

sid_memory sid_from_string(const std::wstring& text) {
  PSID sid = nullptr;
  if (!::ConvertStringSidToSidW(text.c_str(), &sid)) return sid_memory();
  return sid_memory(sid);
}

// A service SID is S-1-5-80- followed by the SHA-1 of the upper-case
// service name (UTF-16LE) as five little-endian numbers. Computing it
// needs no name lookup, which fails for a service that was just created
// on some systems (and always under Wine).
std::wstring service_sid_text(std::wstring name) {
  for (auto& c : name) c = static_cast<wchar_t>(std::towupper(c));
  BCRYPT_ALG_HANDLE alg = nullptr;
  if (::BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA1_ALGORITHM, nullptr, 0) < 0) return {};
  BCRYPT_HASH_HANDLE hash = nullptr;
  unsigned char digest[20] = {};
  bool ok = ::BCryptCreateHash(alg, &hash, nullptr, 0, nullptr, 0, 0) >= 0;
  ok = ok && ::BCryptHashData(hash, reinterpret_cast<PUCHAR>(name.data()),
                              static_cast<ULONG>(name.size() * sizeof(wchar_t)), 0) >= 0;
  ok = ok && ::BCryptFinishHash(hash, digest, sizeof digest, 0) >= 0;
  if (hash != nullptr) ::BCryptDestroyHash(hash);
  ::BCryptCloseAlgorithmProvider(alg, 0);
  if (!ok) return {};
  std::wstring text = L"S-1-5-80";
  for (int i = 0; i < 5; ++i) {
    const DWORD part = static_cast<DWORD>(digest[4 * i]) | static_cast<DWORD>(digest[4 * i + 1]) << 8 |
                       static_cast<DWORD>(digest[4 * i + 2]) << 16 | static_cast<DWORD>(digest[4 * i + 3]) << 24;
    text += L"-" + std::to_wstring(part);
  }
  return text;
}

sid_memory account_sid(const std::wstring& account) {
  const std::wstring service_prefix = L"NT SERVICE\\";
  if (account.rfind(service_prefix, 0) == 0) return sid_from_string(service_sid_text(account.substr(11)));
  if (_wcsicmp(account.c_str(), L"NT AUTHORITY\\LocalService") == 0) return sid_from_string(L"S-1-5-19");
  DWORD sid_size = 0;
  DWORD domain_size = 0;
  SID_NAME_USE use{};
  ::LookupAccountNameW(nullptr, account.c_str(), nullptr, &sid_size, nullptr, &domain_size, &use);
  if (sid_size == 0) return sid_memory();
  sid_memory sid(::LocalAlloc(LMEM_FIXED, sid_size));
  std::vector<wchar_t> domain(domain_size + 1);
  if (!sid ||
      !::LookupAccountNameW(nullptr, account.c_str(), sid.get(), &sid_size, domain.data(), &domain_size, &use)) {
    return sid_memory();
  }
  return sid;
}

std::string account_name(PSID sid) {
  wchar_t name[256];
  wchar_t domain[256];
  DWORD name_size = 256;
  DWORD domain_size = 256;
  SID_NAME_USE use{};
  if (::LookupAccountSidW(nullptr, sid, name, &name_size, domain, &domain_size, &use)) {
    return win::to_utf8(domain_size > 0 ? std::wstring(domain) + L"\\" + name : std::wstring(name));
  }
  wchar_t* text = nullptr;
  if (!::ConvertSidToStringSidW(sid, &text)) return "(unknown owner)";
  const win::local_memory owned(text);
  return win::to_utf8(text);
}

bool is_current_user(PSID sid) {
  HANDLE raw = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &raw)) return false;
  const win::unique_handle token(raw);
  const sid_memory self = sid_from_string(win::token_user_sid(token.get()));
  return self && ::EqualSid(sid, self.get());
}

bool is_trusted_owner(PSID sid) {
  const sid_memory installer = sid_from_string(trusted_installer_sid);
  return ::IsWellKnownSid(sid, WinLocalSystemSid) || ::IsWellKnownSid(sid, WinBuiltinAdministratorsSid) ||
         (installer && ::EqualSid(sid, installer.get())) || is_current_user(sid);
}

// Entries other plexd services (service SIDs, LocalService) were given
// by their own install: another instance must not lock them out.
bool keep_entry(ACE_HEADER* header, PSID replaced) {
  if (header->AceType != ACCESS_ALLOWED_ACE_TYPE || (header->AceFlags & INHERITED_ACE) != 0) return false;
  PSID sid = &reinterpret_cast<ACCESS_ALLOWED_ACE*>(header)->SidStart;
  if (::EqualSid(sid, replaced)) return false;
  if (::IsWellKnownSid(sid, WinLocalServiceSid)) return true;
  const auto* authority = ::GetSidIdentifierAuthority(sid);
  const SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
  return std::equal(std::begin(nt.Value), std::end(nt.Value), std::begin(authority->Value)) &&
         *::GetSidSubAuthorityCount(sid) >= 1 && *::GetSidSubAuthority(sid, 0) == SECURITY_SERVICE_ID_BASE_RID;
}

std::vector<ACE_HEADER*> kept_entries(const std::wstring& dir, PSID account, win::local_memory& descriptor) {
  std::vector<ACE_HEADER*> kept;
  PACL old_acl = nullptr;
  PSECURITY_DESCRIPTOR raw = nullptr;
  if (::GetNamedSecurityInfoW(dir.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr, &old_acl,
                              nullptr, &raw) != ERROR_SUCCESS) {
    return kept;
  }
  descriptor.reset(raw);
  for (DWORD i = 0; old_acl != nullptr && i < old_acl->AceCount; ++i) {
    void* ace = nullptr;
    if (::GetAce(old_acl, i, &ace) && keep_entry(static_cast<ACE_HEADER*>(ace), account)) {
      kept.push_back(static_cast<ACE_HEADER*>(ace));
    }
  }
  return kept;
}
}  // namespace

std::string service_data_dir() {
  return win::to_utf8(win::data_dir());
}

std::string service_logs_dir() {
  return win::to_utf8(win::data_dir() + L"\\logs");
}

path_owner inspect_owner(const std::string& path) {
  path_owner result;
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR raw = nullptr;
  const DWORD err = ::GetNamedSecurityInfoW(win::to_wide(path).c_str(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION,
                                            &owner, nullptr, nullptr, nullptr, &raw);
  const win::local_memory descriptor(raw);
  if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) {
    result.trust = owner_trust::absent;
  } else if (err != ERROR_SUCCESS || owner == nullptr) {
    result.error = win::error_text(err);
  } else {
    result.owner = account_name(owner);
    result.trust = is_trusted_owner(owner) ? owner_trust::trusted : owner_trust::untrusted;
  }
  return result;
}

std::string protect_directory(const std::string& dir, const std::string& account, account_access access) {
  const std::wstring wide_dir = win::to_wide(dir);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(wide_dir), ec);
  if (ec) return "cannot create " + dir + ": " + ec.message();
  const sid_memory system = sid_from_string(L"S-1-5-18");
  const sid_memory admins = sid_from_string(L"S-1-5-32-544");
  const sid_memory own = account_sid(win::to_wide(account));
  if (!system || !admins || !own) return "cannot find the account " + account;

  win::local_memory old_descriptor;
  const auto kept = kept_entries(wide_dir, own.get(), old_descriptor);
  DWORD size = sizeof(ACL);
  for (PSID sid : {system.get(), admins.get(), own.get()}) {
    size += static_cast<DWORD>(sizeof(ACCESS_ALLOWED_ACE)) + ::GetLengthSid(sid);
  }
  for (const auto* ace : kept) size += ace->AceSize;
  std::vector<BYTE> buffer(size);
  auto* acl = reinterpret_cast<PACL>(buffer.data());
  const DWORD inherit = OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE;
  const DWORD rights = access == account_access::modify
                           ? FILE_GENERIC_READ | FILE_GENERIC_WRITE | FILE_GENERIC_EXECUTE | DELETE
                           : FILE_GENERIC_READ | FILE_GENERIC_EXECUTE;
  bool ok = ::InitializeAcl(acl, size, ACL_REVISION) &&
            ::AddAccessAllowedAceEx(acl, ACL_REVISION, inherit, FILE_ALL_ACCESS, system.get()) &&
            ::AddAccessAllowedAceEx(acl, ACL_REVISION, inherit, FILE_ALL_ACCESS, admins.get()) &&
            ::AddAccessAllowedAceEx(acl, ACL_REVISION, inherit, rights, own.get());
  for (auto* ace : kept) ok = ok && ::AddAce(acl, ACL_REVISION, MAXDWORD, ace, ace->AceSize);
  if (!ok) return "cannot build the access list for " + dir + ": " + win::error_text(::GetLastError());
  const DWORD err = ::SetNamedSecurityInfoW(const_cast<LPWSTR>(wide_dir.c_str()), SE_FILE_OBJECT,
                                            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, nullptr,
                                            nullptr, acl, nullptr);
  return err == ERROR_SUCCESS ? std::string() : "cannot set the access list of " + dir + ": " + win::error_text(err);
}

}  // namespace plexd::platform
