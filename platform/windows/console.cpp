#include "plexd/platform/console.hpp"

#include <windows.h>

namespace plexd::platform {

// ReadFile works on a console (line-edited input), a pipe and a file alike.
long read_stdin(char* buffer, std::size_t size) {
  HANDLE in = ::GetStdHandle(STD_INPUT_HANDLE);
  if (in == nullptr || in == INVALID_HANDLE_VALUE) return 0;
  DWORD got = 0;
  const DWORD want = size > 0x10000000 ? 0x10000000 : static_cast<DWORD>(size);
  if (!::ReadFile(in, buffer, want, &got, nullptr)) {
    const DWORD err = ::GetLastError();
    // The writer closed its end of the pipe: that is end of input.
    if (err == ERROR_BROKEN_PIPE || err == ERROR_HANDLE_EOF || err == ERROR_NO_DATA) return 0;
    return -1;
  }
  if (got >= 1 && buffer[0] == 0x1a && ::GetFileType(in) == FILE_TYPE_CHAR) return 0;  // Ctrl+Z on a console
  return static_cast<long>(got);
}

// WriteFile, not the C runtime: its text mode would turn every "\n" the
// server sent into "\r\n".
bool write_stdout(const char* data, std::size_t size) {
  HANDLE out = ::GetStdHandle(STD_OUTPUT_HANDLE);
  if (out == nullptr || out == INVALID_HANDLE_VALUE) return false;
  while (size > 0) {
    const DWORD chunk = size > 0x10000000 ? 0x10000000 : static_cast<DWORD>(size);
    DWORD written = 0;
    if (!::WriteFile(out, data, chunk, &written, nullptr) || written == 0) return false;
    data += written;
    size -= written;
  }
  return true;
}

}  // namespace plexd::platform
