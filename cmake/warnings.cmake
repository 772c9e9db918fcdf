# One warnings policy for every target (spdlog's enable_warnings() model).
function(plexd_enable_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 /permissive-)
    if(PLEXD_WERROR)
      target_compile_options(${target} PRIVATE /WX)
    endif()
    return()
  endif()
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough
    # Narrowing and sign changes must be spelled out: sizes, ports, counters
    # and file descriptors cross between signed and unsigned types here.
    -Wconversion -Wsign-conversion)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports -Wrestrict inside inlined std::string code at -O2
    # (GCC bug 105329): a false positive that would break release builds.
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(PLEXD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
