// Raw standard input and output for `plexd connect`: unbuffered, byte for
// byte (no newline translation on Windows).
#pragma once

#include <cstddef>

namespace plexd::platform {

/// Blocks until some input is available. Returns the byte count, 0 at end
/// of input, -1 on error.
long read_stdin(char* buffer, std::size_t size);

/// Writes all `size` bytes to standard output, unmodified and unbuffered.
/// Returns false on error (e.g. the reader went away).
bool write_stdout(const char* data, std::size_t size);

}  // namespace plexd::platform
