// Two SHA-256 digests of the same bytes at once: an S3 part's checksum and
// the whole file's digest, which push-artifact needs from one read.
//
// On x86-64 CPUs with the SHA extensions the two are computed block by block
// together: the message schedule is shared (the bytes are the same) and the
// two round chains are interleaved, which hides the latency of sha256rnds2.
// That makes both digests cost little more than one (docs/BENCHMARKS.md,
// "Where the CPU goes"). Elsewhere it falls back to two OpenSSL digests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace switchyard {

class Sha256Twin {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  enum class Engine {
    automatic,  // the SHA extensions when the CPU has them, else OpenSSL
    openssl,    // two OpenSSL digests (the fallback, chosen by tests)
  };

  explicit Sha256Twin(Engine engine = Engine::automatic);
  ~Sha256Twin();
  Sha256Twin(const Sha256Twin&) = delete;
  Sha256Twin& operator=(const Sha256Twin&) = delete;

  // Feeds `size` bytes to both digests.
  void update(const void* data, std::size_t size);
  // Finishes the part's digest and starts the next part's; the whole
  // digest goes on.
  Digest finish_part();
  // Finishes the whole digest (call once, at the end).
  Digest finish_whole();

  // True when the CPU path is in use, false for the OpenSSL fallback.
  static bool accelerated();

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

}  // namespace switchyard
