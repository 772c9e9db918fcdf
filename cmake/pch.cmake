# Precompiled headers. Asio, spdlog, Catch2, toml++ and the standard library
# are parsed again by every translation unit: a fifth of a non-unity
# build's time (the dev preset: 301 s -> 240 s on two cores). A unity build
# parses them once per batch already, and one precompiled header per target
# would cost more than it saves there, so it is off by default in those.
# clang-tidy reads compile_commands.json without building: it turns it off.
if(CMAKE_UNITY_BUILD)
  set(_plexd_pch_default OFF)
else()
  set(_plexd_pch_default ON)
endif()
option(PLEXD_PCH "Precompile the third-party headers of each target" ${_plexd_pch_default})
unset(_plexd_pch_default)

set(PLEXD_PCH_COMMON <algorithm> <chrono> <cstdint> <functional> <map> <memory> <optional>
    <string> <string_view> <vector> <spdlog/spdlog.h>)
set(PLEXD_PCH_ASIO <asio/io_context.hpp> <asio/ip/tcp.hpp> <asio/post.hpp> <asio/steady_timer.hpp>
    <asio/write.hpp>)

# plexd_precompile(TARGET HEADER...): precompile HEADERs for TARGET's sources.
function(plexd_precompile target)
  if(PLEXD_PCH)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()
