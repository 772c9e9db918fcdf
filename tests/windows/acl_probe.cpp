// Test helper for the service tests (driven from the Linux side, which has
// no Win32 API): shows or changes the owner and access list of a path.
//   acl_probe show PATH             prints "O:<owner>D:<flags><entries>" (SDDL)
//   acl_probe set-owner PATH SID    makes SID ("S-1-5-32-545") the owner
// Exit 0 on success, 1 with the Win32 error on stderr otherwise.
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <shellapi.h>

#include <cstdio>
#include <string>

namespace {

int fail(const char* what, DWORD err) {
  std::fprintf(stderr, "acl_probe: %s failed: error %lu\n", what, static_cast<unsigned long>(err));
  return 1;
}

int show(const wchar_t* path) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  const SECURITY_INFORMATION what = OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
  const DWORD err = ::GetNamedSecurityInfoW(path, SE_FILE_OBJECT, what, nullptr, nullptr, nullptr, nullptr, &sd);
  if (err != ERROR_SUCCESS) return fail("GetNamedSecurityInfo", err);
  wchar_t* text = nullptr;
  if (!::ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, SDDL_REVISION_1, what, &text, nullptr)) {
    return fail("ConvertSecurityDescriptorToStringSecurityDescriptor", ::GetLastError());
  }
  std::printf("%ls\n", text);
  ::LocalFree(text);
  ::LocalFree(sd);
  return 0;
}

int set_owner(const wchar_t* path, const wchar_t* sid_text) {
  PSID sid = nullptr;
  if (!::ConvertStringSidToSidW(sid_text, &sid)) return fail("ConvertStringSidToSid", ::GetLastError());
  const DWORD err = ::SetNamedSecurityInfoW(const_cast<wchar_t*>(path), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, sid,
                                            nullptr, nullptr, nullptr);
  ::LocalFree(sid);
  return err == ERROR_SUCCESS ? 0 : fail("SetNamedSecurityInfo", err);
}
}  // namespace

int main() {
  int argc = 0;
  wchar_t** argv = ::CommandLineToArgvW(::GetCommandLineW(), &argc);
  if (argv == nullptr) return 2;
  const std::wstring verb = argc > 1 ? argv[1] : L"";
  int rc = 2;
  if (verb == L"show" && argc == 3) {
    rc = show(argv[2]);
  } else if (verb == L"set-owner" && argc == 4) {
    rc = set_owner(argv[2], argv[3]);
  } else {
    std::fprintf(stderr, "usage: acl_probe show PATH | set-owner PATH SID\n");
  }
  ::LocalFree(argv);
  return rc;
}
