# Shared warning settings for every target of the project (sanitizers:
# Sanitizers.cmake).
option(SWITCHYARD_WERROR "Treat warnings as errors" ON)

function(switchyard_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough)
  if(SWITCHYARD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
    # GCC 12 at -O3 (a Release build) reports -Wrestrict inside libstdc++'s
    # own string concatenation (GCC bug 105329), which no code of ours can
    # avoid; keep it a warning there so Release builds like the others.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      target_compile_options(${target} PRIVATE -Wno-error=restrict)
    endif()
  endif()
endfunction()
