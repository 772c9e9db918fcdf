# Cross-compiling plexd for 64-bit Windows with MinGW-w64 on Debian.
# The *posix* thread model is named directly: the win32 flavour has no
# std::thread/std::mutex, and Debian's alternatives may point at either.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(PLEXD_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER /usr/bin/${PLEXD_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER /usr/bin/${PLEXD_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER /usr/bin/${PLEXD_MINGW_TRIPLE}-windres)

# Look for libraries and headers only in the MinGW sysroot; programs
# (makensis, sh) come from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${PLEXD_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# A fully static .exe: otherwise it needs libwinpthread-1.dll (and under
# Wine with WINEDEBUG=-all a missing DLL only shows as exit code 53).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# ctest and catch_discover_tests run the .exe files through Wine. The
# wrapper keeps one prefix per build tree (see cmake/wine-run.sh); a
# preset or -D may name another emulator.
if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_CURRENT_LIST_DIR}/wine-run.sh)
endif()

# Windows has no sbin: plexd.exe installs to bin\ (GNUInstallDirs keeps a
# value that is already in the cache).
set(CMAKE_INSTALL_SBINDIR bin CACHE PATH "System admin executables (bin on Windows)")

# -O2 rather than CMake's -O3 for Release: GCC 12 reports false -Wrestrict
# errors on inlined std::string concatenation at -O3 (GCC PR 105651), and
# -Werror is on.
# (The platform module appends -O3 to any _INIT value, so the cache entry
# is seeded here instead; -D or a preset can still override it.)
set(CMAKE_CXX_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "Flags used by the CXX compiler during RELEASE builds")
