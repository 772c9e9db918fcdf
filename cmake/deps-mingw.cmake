# Third-party libraries for the MinGW-w64 cross build (included by deps.cmake).
#
# Debian's packages are header-only capable, so the cross build uses them
# that way: no cross-compiled .a files exist. /usr/include must never be on
# the cross include path (it would shadow MinGW's own C headers), so only
# the library folders are staged, as symlinks, into the build tree and that
# folder becomes a SYSTEM include directory. Debian's spdlog.pc and
# tomlplusplus.pc define SPDLOG_COMPILED_LIB / TOML_HEADER_ONLY=0: not used.
set(PLEXD_HOST_INCLUDE /usr/include CACHE PATH "Where the host's header-only libraries live")
set(_stage ${CMAKE_BINARY_DIR}/mingw-deps/include)
file(MAKE_DIRECTORY ${_stage})
foreach(_entry asio asio.hpp toml++ spdlog fmt catch2)
  if(NOT EXISTS ${PLEXD_HOST_INCLUDE}/${_entry})
    message(FATAL_ERROR "deps-mingw: ${PLEXD_HOST_INCLUDE}/${_entry} is missing "
                        "(apt-get install libasio-dev libtomlplusplus-dev libspdlog-dev libfmt-dev catch2)")
  endif()
  file(CREATE_LINK ${PLEXD_HOST_INCLUDE}/${_entry} ${_stage}/${_entry} SYMBOLIC)
endforeach()

# Every translation unit sees the same Windows API level and the same lean
# <windows.h>: Asio warns without _WIN32_WINNT, and min/max macros would
# break std::min. No _UNICODE: Catch2 v2's CATCH_CONFIG_MAIN would emit
# wmain and MinGW would then look for WinMain.
add_compile_definitions(_WIN32_WINNT=0x0A00 WINVER=0x0A00 WIN32_LEAN_AND_MEAN NOMINMAX)

target_include_directories(plexd_dep_asio SYSTEM INTERFACE ${_stage})
target_link_libraries(plexd_dep_asio INTERFACE ws2_32 mswsock)
target_include_directories(plexd_dep_toml SYSTEM INTERFACE ${_stage})
target_include_directories(plexd_dep_spdlog SYSTEM INTERFACE ${_stage})
target_compile_definitions(plexd_dep_spdlog INTERFACE SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)
target_include_directories(plexd_dep_catch2 SYSTEM INTERFACE ${_stage})

# include(Catch) for catch_discover_tests: the module is plain CMake, so the
# host's copy is used as it is.
find_file(PLEXD_CATCH_CMAKE Catch.cmake PATHS /usr/lib/cmake/Catch2 /usr/share/cmake/Catch2 /usr/lib/cmake/catch2
          NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
if(PLEXD_BUILD_TESTS)
  if(NOT PLEXD_CATCH_CMAKE)
    message(FATAL_ERROR "deps-mingw: Catch.cmake not found (apt-get install catch2)")
  endif()
  get_filename_component(_catch_dir ${PLEXD_CATCH_CMAKE} DIRECTORY)
  list(APPEND CMAKE_MODULE_PATH ${_catch_dir})
endif()
unset(_stage)
