# Runs at install time (install(CODE) in cpack-linux.cmake), when the final
# CMAKE_INSTALL_PREFIX and DESTDIR are known.
# In: PLEXD_UNIT_DIR, PLEXD_WORK_DIR, PLEXD_SBINDIR, PLEXD_CONFIG.

if(IS_ABSOLUTE "${PLEXD_SBINDIR}")
  set(_sbin "${PLEXD_SBINDIR}")
else()
  set(_sbin "${CMAKE_INSTALL_PREFIX}/${PLEXD_SBINDIR}")
endif()

# The units name /usr/sbin/plexd; point them at the binary actually installed.
# One work directory per destination: installs (cpack, tests) may run at once.
string(MD5 _key "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
set(_work "${PLEXD_WORK_DIR}/${_key}")
file(MAKE_DIRECTORY "${_work}")
foreach(_unit plexd.service plexd.socket)
  file(READ "${PLEXD_UNIT_DIR}/${_unit}" _text)
  string(REPLACE "/usr/sbin/plexd " "${_sbin}/plexd " _text "${_text}")
  file(WRITE "${_work}/${_unit}" "${_text}")
endforeach()
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
  FILES "${_work}/plexd.service" "${_work}/plexd.socket")

# Never overwrite an operator's config (the package's conffile handling does
# the same for upgrades); the new example is in share/doc/plexd/examples.
if(EXISTS "$ENV{DESTDIR}/etc/plexd/plexd.toml")
  message(STATUS "Kept existing: $ENV{DESTDIR}/etc/plexd/plexd.toml")
else()
  file(INSTALL DESTINATION "/etc/plexd" TYPE FILE
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    FILES "${PLEXD_CONFIG}")
endif()
