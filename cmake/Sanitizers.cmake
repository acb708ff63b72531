# Sanitizer and fuzzing builds (scripts/sanitize and scripts/fuzz make them in
# build directories of their own; docs/RELIABILITY.md has what they found).
#
#   -DSWITCHYARD_SANITIZE=address,undefined   ASan + UBSan, first report fatal
#   -DSWITCHYARD_SANITIZE=thread              TSan
#   -DSWITCHYARD_FUZZ=ON                      libFuzzer targets in tests/fuzz
#                                             (clang; coverage instrumentation
#                                             for every target of the build)
#
# The flags apply to every target of the build, tests included, so a report
# names our code wherever the fault is; the system libraries (Boost.JSON,
# yaml-cpp, libcurl) are not instrumented, which ASan and UBSan tolerate and
# TSan tolerates for libraries that start no threads of their own.
set(SWITCHYARD_SANITIZE "" CACHE STRING
  "Sanitizers to build with: address,undefined or thread (empty: none)")
option(SWITCHYARD_FUZZ "Build the libFuzzer targets in tests/fuzz (needs clang)" OFF)

# The old boolean spelling (-DSWITCHYARD_SANITIZE=ON) meant ASan + UBSan.
if(SWITCHYARD_SANITIZE STREQUAL "ON")
  set(SWITCHYARD_SANITIZE "address,undefined")
elseif(SWITCHYARD_SANITIZE STREQUAL "OFF")
  set(SWITCHYARD_SANITIZE "")
endif()

if(SWITCHYARD_SANITIZE)
  if(NOT SWITCHYARD_SANITIZE MATCHES "^(address,undefined|address|undefined|thread)$")
    message(FATAL_ERROR "SWITCHYARD_SANITIZE=${SWITCHYARD_SANITIZE}: use address,undefined or thread")
  endif()
  # -fno-sanitize-recover: a UBSan report fails the test that caused it
  # instead of scrolling past in its log.
  add_compile_options(-fsanitize=${SWITCHYARD_SANITIZE} -fno-sanitize-recover=all
    -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${SWITCHYARD_SANITIZE} -fno-sanitize-recover=all)
  add_compile_definitions(SWITCHYARD_SANITIZED=1)
endif()

if(SWITCHYARD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SWITCHYARD_FUZZ needs clang (CXX=clang++-14); libFuzzer is clang's")
  endif()
  # Coverage for libFuzzer in everything; only the fuzz targets link its main.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
