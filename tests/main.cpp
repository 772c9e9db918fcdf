#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "plexd/platform/sockets.hpp"

// Tests that hold many connections (a thousand proxied pairs, slowloris
// crowds) need more descriptors than a login shell's soft limit of 1024 grants;
// ctest runs each case in its own process, so the raise belongs here, once.
int main(int argc, char* argv[]) {
  plexd::platform::raise_fd_limit();
  return Catch::Session().run(argc, argv);
}
