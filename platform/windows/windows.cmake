# Included by platform/CMakeLists.txt on Windows: the Windows-only parts of
# plexd_platform and the resources every executable linking it carries.
target_sources(plexd_platform PRIVATE
  windows/win_util.cpp
  windows/eventlog_sink.cpp
  windows/service_main.cpp
  windows/service_status.cpp
  windows/stderr_capture.cpp
  windows/crash_report.cpp
  windows/pipe_trust.cpp)
target_link_libraries(plexd_platform
  PUBLIC ws2_32 mswsock advapi32
  # bcrypt: SHA-1 for service SIDs (service_files.cpp).
  PRIVATE shell32 ole32 bcrypt)

if(MSVC)
  # The MinGW build gets these from cmake/deps-mingw.cmake for every target.
  target_compile_definitions(plexd_platform PUBLIC
    _WIN32_WINNT=0x0A00 WINVER=0x0A00 WIN32_LEAN_AND_MEAN NOMINMAX _CRT_SECURE_NO_WARNINGS)
  target_compile_options(plexd_platform PUBLIC /utf-8 /Zc:__cplusplus)
endif()

# Event Log message table (messages.mc) + version info. The compiled
# resource object goes on the link line of every consumer: resources in a
# static library would never be pulled in.
# MinGW: windmc next to windres; MSVC: mc.exe next to rc.exe in the SDK.
get_filename_component(_rc_dir "${CMAKE_RC_COMPILER}" DIRECTORY)
find_program(PLEXD_MESSAGE_COMPILER NAMES x86_64-w64-mingw32-windmc windmc mc
  HINTS ${_rc_dir} REQUIRED)
unset(_rc_dir)
set(_res_dir ${CMAKE_CURRENT_BINARY_DIR}/windows-resources)
file(MAKE_DIRECTORY ${_res_dir})
add_custom_command(
  OUTPUT ${_res_dir}/messages.rc ${_res_dir}/messages.h
  COMMAND ${PLEXD_MESSAGE_COMPILER} -h ${_res_dir} -r ${_res_dir} ${CMAKE_CURRENT_SOURCE_DIR}/windows/messages.mc
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/windows/messages.mc
  COMMENT "Compiling the Event Log message table"
  VERBATIM)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/windows/plexd.rc.in ${_res_dir}/plexd.rc @ONLY)
set_source_files_properties(${_res_dir}/plexd.rc PROPERTIES OBJECT_DEPENDS ${_res_dir}/messages.rc)
add_library(plexd_win_resources OBJECT ${_res_dir}/plexd.rc ${_res_dir}/messages.rc)
set_source_files_properties(${_res_dir}/messages.rc PROPERTIES HEADER_FILE_ONLY ON)
target_include_directories(plexd_win_resources PRIVATE ${_res_dir})
target_link_libraries(plexd_platform INTERFACE $<TARGET_OBJECTS:plexd_win_resources>)
unset(_res_dir)
