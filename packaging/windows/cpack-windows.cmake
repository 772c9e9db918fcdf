# Windows packages (included by packaging/CMakeLists.txt when WIN32): a
# 64-bit NSIS installer that sets up the plexd service, and a ZIP for
# people who install by hand (`plexd service install`).
#
# Layout under the install directory (C:\Program Files\plexd):
#   bin\plexd.exe          the daemon and its CLI
#   plexd.toml.example     the built-in default config, commented
#   README-windows.md      service installation and management
#   LICENSE.txt
# The installer copies plexd.toml.example to %ProgramData%\plexd\plexd.toml
# unless that file exists already (upgrades keep the operator's config),
# registers the service with that config and starts it. The uninstaller
# stops and removes the service and keeps %ProgramData%\plexd.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/plexd.toml DESTINATION . RENAME plexd.toml.example)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/README-windows.md DESTINATION .)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION . RENAME LICENSE.txt)

set(CPACK_GENERATOR "NSIS;ZIP")
# Symbols stay in the build tree; the shipped plexd.exe is a third the size.
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_FILE_NAME "plexd-${PROJECT_VERSION}-win64")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "plexd")
# Not versioned: an upgrade finds (and first uninstalls) the previous one.
set(CPACK_PACKAGE_INSTALL_REGISTRY_KEY "plexd")

# Cross builds on Linux: a 64-bit installer (Wine without wine32 cannot run
# a 32-bit one). On Windows hosts the official NSIS has no amd64 stubs; its
# default 32-bit installer works there (it installs to $PROGRAMFILES64 and
# registers the 64-bit plexd.exe all the same).
if(NOT CMAKE_HOST_WIN32)
  set(CPACK_NSIS_EXECUTABLE ${CMAKE_CURRENT_LIST_DIR}/makensis-amd64.sh)
endif()
set(CPACK_NSIS_INSTALL_ROOT "$PROGRAMFILES64")
set(CPACK_NSIS_PACKAGE_NAME "plexd")
set(CPACK_NSIS_DISPLAY_NAME "plexd ${PROJECT_VERSION}")
set(CPACK_NSIS_CONTACT "${CPACK_PACKAGE_CONTACT}")
# The old version's uninstaller stops and removes its service first, so
# plexd.exe is not in use while it is replaced.
set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
set(CPACK_NSIS_EXTRA_INSTALL_COMMANDS "!include \\\"${CMAKE_CURRENT_LIST_DIR}/service-install.nsh\\\"")
set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS "!include \\\"${CMAKE_CURRENT_LIST_DIR}/service-uninstall.nsh\\\"")

# The ZIP unpacks into one plexd-X.Y.Z-win64 folder.
set(CPACK_ZIP_COMPONENT_INSTALL OFF)
set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY ON)
