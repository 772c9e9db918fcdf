// Raw standard input for `plexd connect`: unbuffered, returns what is there.
#pragma once

#include <cstddef>

namespace plexd::platform {

/// Blocks until some input is available. Returns the byte count, 0 at end
/// of input, -1 on error.
long read_stdin(char* buffer, std::size_t size);

}  // namespace plexd::platform
