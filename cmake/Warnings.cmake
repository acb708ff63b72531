# Shared warning and sanitizer settings for every target of the project.
option(SWITCHYARD_WERROR "Treat warnings as errors" ON)
option(SWITCHYARD_SANITIZE "Build with AddressSanitizer and UBSan" OFF)

function(switchyard_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough)
  if(SWITCHYARD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(SWITCHYARD_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
