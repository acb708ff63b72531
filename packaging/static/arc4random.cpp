// glibc 2.36 added arc4random() and arc4random_buf(). Debian 12's libstdc++
// (linked statically into the release executables) calls the first from
// std::random_device, and the libzip the release builds from Debian's source
// calls both (zip_random_unix.c, found at its configure time): either would
// make every executable need GLIBC_2.36, and Ubuntu 22.04 has 2.35. The
// release build links with -Wl,--wrap=arc4random,--wrap=arc4random_buf
// (cmake/StaticLinking.cmake), so those calls land here instead, on
// getrandom(2), which glibc has had since 2.25 and which is what glibc's own
// arc4random uses.
#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

void fill_random(void* buffer, std::size_t size) {
  auto* bytes = static_cast<unsigned char*>(buffer);
  std::size_t filled = 0;
  while (filled < size) {
    ssize_t got = ::getrandom(bytes + filled, size - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      // As glibc's arc4random: no randomness is not a recoverable state.
      std::abort();
    }
    filled += static_cast<std::size_t>(got);
  }
}

}  // namespace

// The names are the ones --wrap asks for.
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
extern "C" std::uint32_t __wrap_arc4random() {
  std::uint32_t value = 0;
  fill_random(&value, sizeof value);
  return value;
}

// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
extern "C" void __wrap_arc4random_buf(void* buffer, std::size_t size) {
  fill_random(buffer, size);
}
