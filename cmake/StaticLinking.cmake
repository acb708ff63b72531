# SWITCHYARD_STATIC=ON (scripts/release): every third-party library linked
# statically, so one executable depends on glibc alone and runs on Debian 12,
# Ubuntu 22.04 and 24.04. The developer build stays on the system's shared
# libraries; nothing here runs unless the option is on.
#
# Where the libraries come from:
#   Boost, OpenSSL, zlib, yaml-cpp  Debian's own static archives (-dev packages)
#   spdlog, fmt                     header-only (no archive to link)
#   CLI11                           header-only
#   libcurl, libzip                 built minimal from Debian's source packages by
#                                   scripts/release into SWITCHYARD_STATIC_PREFIX
#                                   (Debian's libcurl.a needs Kerberos, LDAP,
#                                   libssh2 and libpsl, which have no archives)
set(SWITCHYARD_STATIC_PREFIX "" CACHE PATH
  "Install prefixes of the from-source static libraries (libcurl, libzip), ;-separated")
if(NOT SWITCHYARD_STATIC_PREFIX)
  message(FATAL_ERROR "SWITCHYARD_STATIC: set SWITCHYARD_STATIC_PREFIX to the static libcurl's prefix; scripts/release does")
endif()
# Searched before the system, so find_package(CURL) and find_package(libzip)
# take the minimal static builds' CMake packages.
list(PREPEND CMAKE_PREFIX_PATH ${SWITCHYARD_STATIC_PREFIX})
set(CMAKE_FIND_PACKAGE_PREFER_CONFIG ON)

set(Boost_USE_STATIC_LIBS ON)
set(OPENSSL_USE_STATIC_LIBS ON)
set(ZLIB_USE_STATIC_LIBS ON)

# The C++ runtime and libgcc go into every executable; glibc stays shared, so
# its resolver, NSS and locale files are the host's.
add_link_options(-static-libstdc++ -static-libgcc)
# Hardening Debian expects of packaged programs (lintian checks it).
add_compile_options(-fstack-protector-strong $<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>)
add_link_options(-Wl,-z,relro -Wl,-z,now)
# No build path in the executables, so two builds in two directories give the
# same bytes.
add_compile_options(-ffile-prefix-map=${CMAKE_SOURCE_DIR}=. -ffile-prefix-map=${CMAKE_BINARY_DIR}=.)

# Called after the find_package() calls: the targets the runner links, in
# their static form.
macro(switchyard_static_targets)
  # spdlog header-only over fmt header-only: Debian's spdlog::spdlog is a
  # shared library, and its header-only target links the shared libfmt.
  add_library(switchyard_static_spdlog INTERFACE)
  target_compile_definitions(switchyard_static_spdlog INTERFACE SPDLOG_FMT_EXTERNAL)
  target_link_libraries(switchyard_static_spdlog INTERFACE fmt::fmt-header-only Threads::Threads)
  set(SWITCHYARD_SPDLOG switchyard_static_spdlog)

  # Debian's yaml-cpp CMake package names only the shared library; the
  # archive beside it is the same build.
  find_library(SWITCHYARD_YAML_CPP_ARCHIVE NAMES libyaml-cpp.a REQUIRED)
  add_library(switchyard_static_yaml_cpp STATIC IMPORTED)
  set_target_properties(switchyard_static_yaml_cpp PROPERTIES IMPORTED_LOCATION ${SWITCHYARD_YAML_CPP_ARCHIVE})
  get_target_property(yaml_cpp_includes ${SWITCHYARD_YAML_CPP} INTERFACE_INCLUDE_DIRECTORIES)
  if(yaml_cpp_includes)
    set_target_properties(switchyard_static_yaml_cpp PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${yaml_cpp_includes}")
  endif()
  set(SWITCHYARD_YAML_CPP switchyard_static_yaml_cpp)

  # Linked into every executable (INTERFACE_SOURCES, so the object is always
  # in the link, ahead of the static libstdc++ that needs it): the wrapper
  # that keeps std::random_device and libzip off glibc 2.36's arc4random and
  # arc4random_buf.
  add_library(switchyard_static_runtime INTERFACE)
  target_sources(switchyard_static_runtime INTERFACE ${CMAKE_SOURCE_DIR}/packaging/static/arc4random.cpp)
  target_link_options(switchyard_static_runtime INTERFACE -Wl,--wrap=arc4random,--wrap=arc4random_buf)
  set(SWITCHYARD_STATIC_RUNTIME switchyard_static_runtime)

  # libzip through pkg-config (PkgConfig::LIBZIP) finds the static build's
  # libzip.pc first (CMAKE_PREFIX_PATH); its archive needs zlib after it.
  if(TARGET PkgConfig::LIBZIP)
    set_property(TARGET PkgConfig::LIBZIP APPEND PROPERTY INTERFACE_LINK_LIBRARIES ZLIB::ZLIB)
  endif()

  # The from-source libcurl must be the one found: a shared or Debian libcurl
  # here would pull Kerberos and LDAP back in.
  get_target_property(curl_location CURL::libcurl LOCATION)
  if(NOT curl_location MATCHES "\\.a$")
    message(FATAL_ERROR "SWITCHYARD_STATIC: found libcurl at ${curl_location}, not a static archive from SWITCHYARD_STATIC_PREFIX")
  endif()
endmacro()
