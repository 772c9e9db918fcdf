# Linux install rules and the Debian package (cpack -G DEB).
#
# `cmake --install BUILD --prefix /usr/local` and the .deb (prefix /usr) share
# these rules:
#   PREFIX/sbin/plexd                      (daemon/CMakeLists.txt)
#   PREFIX/lib/systemd/system/plexd.{service,socket}  (ExecStart= follows PREFIX;
#                                          systemd reads /usr/local/lib/systemd/system too)
#   PREFIX/share/man/man8/plexd.8.gz, man5/plexd.toml.5.gz
#   PREFIX/share/doc/plexd/                copyright, changelog.Debian.gz, README-systemd.md,
#                                          examples/plexd.toml
#   PREFIX/share/lintian/overrides/plexd   (each with its reason)
#   /etc/plexd/plexd.toml                  always /etc: it is where the daemon and the CLI look
#                                          by default and what ConfigurationDirectory= means.
#                                          A plain install keeps an existing one.
#
# Included from packaging/CMakeLists.txt (before include(CPack)).

set(_plexd_linux ${CMAKE_CURRENT_LIST_DIR})
set(_plexd_gen ${CMAKE_CURRENT_BINARY_DIR}/linux)
file(MAKE_DIRECTORY ${_plexd_gen})

find_program(PLEXD_GZIP gzip REQUIRED)

# --- The packaged config: the commented example (= the built-in default), with
# the control endpoint spelled out. The CLI reads this same file, so `plexd status`
# run by root or a plexd group member finds /run/plexd/control.sock (the daemon's
# $RUNTIME_DIRECTORY) instead of a per-user default.
set(_plexd_example ${PROJECT_SOURCE_DIR}/packaging/plexd.toml)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_plexd_example})
file(READ ${_plexd_example} _plexd_toml)
set(_plexd_endpoint "endpoint = \"unix:/run/plexd/control.sock\"")
if(NOT _plexd_toml MATCHES "\n${_plexd_endpoint}")
  string(REPLACE "\n# ${_plexd_endpoint}" "\n${_plexd_endpoint}" _plexd_packaged "${_plexd_toml}")
  if(_plexd_packaged STREQUAL _plexd_toml)
    message(FATAL_ERROR "packaging/plexd.toml has no '# ${_plexd_endpoint}' line to enable for the package")
  endif()
  set(_plexd_toml "${_plexd_packaged}")
endif()
file(WRITE ${_plexd_gen}/plexd.toml
  "# /etc/plexd/plexd.toml, read by the plexd service and by `plexd status|logs|reload`.\n"
  "# Apply changes with `systemctl reload plexd`; see plexd.toml(5).\n"
  "# Under systemd the log goes to the journal (journalctl -u plexd); a log_file\n"
  "# must be under /var/log/plexd, the only log location the service may write.\n"
  "#\n"
  "${_plexd_toml}")

# --- Compressed documentation (gzip -9n: no name or time stamp, reproducible).
set(PLEXD_DEB_RELEASE 1)
set(PLEXD_DEB_VERSION ${PROJECT_VERSION}-${PLEXD_DEB_RELEASE})
configure_file(${_plexd_linux}/changelog.Debian.in ${_plexd_gen}/changelog.Debian @ONLY)
set(_plexd_docs
  ${PROJECT_SOURCE_DIR}/packaging/man/plexd.8
  ${PROJECT_SOURCE_DIR}/packaging/man/plexd.toml.5
  ${_plexd_gen}/changelog.Debian)
set(_plexd_gz)
foreach(_doc IN LISTS _plexd_docs)
  get_filename_component(_name ${_doc} NAME)
  add_custom_command(OUTPUT ${_plexd_gen}/${_name}.gz
    COMMAND ${PLEXD_GZIP} -9n -c ${_doc} > ${_plexd_gen}/${_name}.gz
    DEPENDS ${_doc} VERBATIM)
  list(APPEND _plexd_gz ${_plexd_gen}/${_name}.gz)
endforeach()
add_custom_target(plexd_linux_docs ALL DEPENDS ${_plexd_gz})

install(FILES ${_plexd_gen}/plexd.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${_plexd_gen}/plexd.toml.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${_plexd_linux}/copyright ${_plexd_gen}/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${_plexd_gen}/plexd.toml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${_plexd_linux}/README-systemd.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Each override there carries its reason.
install(FILES ${_plexd_linux}/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME plexd)

# Units and /etc are written at install time: only then is the final prefix known.
install(CODE "
  set(PLEXD_UNIT_DIR \"${PROJECT_SOURCE_DIR}/packaging/systemd\")
  set(PLEXD_WORK_DIR \"${_plexd_gen}/install\")
  set(PLEXD_SBINDIR \"${CMAKE_INSTALL_SBINDIR}\")
  set(PLEXD_CONFIG \"${_plexd_gen}/plexd.toml\")
  include(\"${_plexd_linux}/install-units.cmake\")")

# --- Hardening the Debian way (what dpkg-buildflags would add; lintian checks
# for it): fortified libc calls in optimised builds, full RELRO. -U first:
# some compilers (Ubuntu's) define _FORTIFY_SOURCE themselves, and a second
# definition would be a warning, an error under PLEXD_WERROR.
if(NOT PLEXD_SANITIZE AND NOT CMAKE_CXX_FLAGS MATCHES "_FORTIFY_SOURCE")
  foreach(_target plexd plexd_core plexd_config plexd_platform)
    if(TARGET ${_target})
      target_compile_options(${_target} PRIVATE
        "$<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-U_FORTIFY_SOURCE;-D_FORTIFY_SOURCE=2>")
    endif()
  endforeach()
endif()
target_link_options(plexd PRIVATE LINKER:-z,relro LINKER:-z,now)

# --- The Debian package.
if(NOT CPACK_GENERATOR)
  set(CPACK_GENERATOR DEB)
endif()
# The extended description: lines of at most 80 columns (lintian checks).
string(CONCAT CPACK_PACKAGE_DESCRIPTION
  "plexd serves several TCP ports from one process and one event loop. Each\n"
  "listener in /etc/plexd/plexd.toml binds an address to a handler: echo,\n"
  "greet, chat (a line-based room) or discard. It reloads its configuration\n"
  "without dropping connections, limits connections per listener, and reports\n"
  "its state and recent log records through a local control socket.\n"
  "\n"
  "The package runs it as a hardened systemd service (Type=notify with a\n"
  "watchdog) under its own system user; socket activation is supported.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${PLEXD_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser: postinst creates the user; init-system-helpers: deb-systemd-helper;
# procps: /bin/kill for ExecReload= (minimal systems lack it).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52), procps")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${_plexd_linux}/debian/conffiles
  ${_plexd_linux}/debian/postinst
  ${_plexd_linux}/debian/prerm
  ${_plexd_linux}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
