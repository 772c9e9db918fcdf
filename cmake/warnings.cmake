# One warnings policy for every target (spdlog's enable_warnings() model).
function(plexd_enable_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough)
  if(PLEXD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
