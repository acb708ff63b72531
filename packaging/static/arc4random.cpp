// glibc 2.36 added arc4random(), and Debian 12's libstdc++ (linked statically
// into the release executables) calls it from std::random_device, which
// would make every executable need GLIBC_2.36: Ubuntu 22.04 has 2.35. The
// release build links with -Wl,--wrap=arc4random (cmake/StaticLinking.cmake),
// so that call lands here instead, on getrandom(2), which glibc has had since
// 2.25 and which is what glibc's own arc4random uses.
#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

// The name is the one --wrap asks for.
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
extern "C" std::uint32_t __wrap_arc4random() {
  std::uint32_t value = 0;
  auto* bytes = reinterpret_cast<unsigned char*>(&value);
  std::size_t filled = 0;
  while (filled < sizeof value) {
    ssize_t got = ::getrandom(bytes + filled, sizeof value - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      // As glibc's arc4random: no randomness is not a recoverable state.
      std::abort();
    }
    filled += static_cast<std::size_t>(got);
  }
  return value;
}
