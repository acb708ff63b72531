#include "runner/util/sha256_twin.hpp"

#include <cstring>

#include "runner/util/sha256.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define SWITCHYARD_SHA_NI 1
#endif

namespace switchyard {
namespace {

constexpr std::uint32_t k_initial_state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

// A SHA-256 computation whose block function is ours, so two of them can be
// run through one interleaved block function.
struct Chain {
  std::uint32_t h[8];
  std::uint8_t buffer[64];
  std::size_t buffered = 0;
  std::uint64_t length = 0;

  Chain() { reset(); }
  void reset() {
    std::memcpy(h, k_initial_state, sizeof h);
    buffered = 0;
    length = 0;
  }
};

#ifdef SWITCHYARD_SHA_NI

alignas(16) constexpr std::uint32_t k_round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define SWITCHYARD_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

bool cpu_has_sha_extensions() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  bool ssse3 = (ecx & (1u << 9)) != 0;
  bool sse41 = (ecx & (1u << 19)) != 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  bool sha = (ebx & (1u << 29)) != 0;
  return ssse3 && sse41 && sha;
}

// The SHA extensions keep the state as ABEF and CDGH.
struct Lanes {
  __m128i abef;
  __m128i cdgh;
};

SWITCHYARD_SHA_TARGET inline Lanes load_state(const std::uint32_t* h) {
  __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)), 0xB1);
  __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4)), 0x1B);
  return {_mm_alignr_epi8(abcd, efgh, 8), _mm_blend_epi16(efgh, abcd, 0xF0)};
}

SWITCHYARD_SHA_TARGET inline void store_state(const Lanes& lanes, std::uint32_t* h) {
  __m128i feba = _mm_shuffle_epi32(lanes.abef, 0x1B);
  __m128i dchg = _mm_shuffle_epi32(lanes.cdgh, 0xB1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}

// Four rounds with message words w (already big-endian-swapped), constant
// group `group`.
SWITCHYARD_SHA_TARGET inline void four_rounds(Lanes& lanes, __m128i w, std::size_t group) {
  __m128i message = _mm_add_epi32(
      w, _mm_load_si128(reinterpret_cast<const __m128i*>(k_round_constants + 4 * group)));
  lanes.cdgh = _mm_sha256rnds2_epu32(lanes.cdgh, lanes.abef, message);
  lanes.abef = _mm_sha256rnds2_epu32(lanes.abef, lanes.cdgh, _mm_shuffle_epi32(message, 0x0E));
}

// The next four message words from the previous sixteen (w[0] oldest).
SWITCHYARD_SHA_TARGET inline __m128i next_words(__m128i w0, __m128i w1, __m128i w2, __m128i w3) {
  __m128i sum = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
  return _mm_sha256msg2_epu32(sum, w3);
}

// Runs `blocks` 64-byte blocks through one chain (count = 1) or through two
// chains fed the same bytes (count = 2), sharing the message schedule.
template <int count>
SWITCHYARD_SHA_TARGET void compress(std::uint32_t* const (&states)[count], const std::uint8_t* data,
                                    std::size_t blocks) {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  Lanes lanes[count];
  for (int c = 0; c < count; ++c)
    lanes[c] = load_state(states[c]);
  for (; blocks > 0; --blocks, data += 64) {
    Lanes saved[count];
    for (int c = 0; c < count; ++c)
      saved[c] = lanes[c];
    __m128i w[4];
    for (std::size_t group = 0; group < 4; ++group) {
      w[group] = _mm_shuffle_epi8(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * group)), byte_swap);
    }
#pragma GCC unroll 16
    for (std::size_t group = 0; group < 16; ++group) {
      if (group >= 4) {
        w[group % 4] =
            next_words(w[group % 4], w[(group + 1) % 4], w[(group + 2) % 4], w[(group + 3) % 4]);
      }
      for (int c = 0; c < count; ++c)
        four_rounds(lanes[c], w[group % 4], group);
    }
    for (int c = 0; c < count; ++c) {
      lanes[c].abef = _mm_add_epi32(lanes[c].abef, saved[c].abef);
      lanes[c].cdgh = _mm_add_epi32(lanes[c].cdgh, saved[c].cdgh);
    }
  }
  for (int c = 0; c < count; ++c)
    store_state(lanes[c], states[c]);
}

void compress_one(Chain& chain, const std::uint8_t* data, std::size_t blocks) {
  std::uint32_t* const states[1] = {chain.h};
  compress<1>(states, data, blocks);
}

void compress_two(Chain& first, Chain& second, const std::uint8_t* data, std::size_t blocks) {
  std::uint32_t* const states[2] = {first.h, second.h};
  compress<2>(states, data, blocks);
}

void update_one(Chain& chain, const std::uint8_t* data, std::size_t size) {
  chain.length += size;
  if (chain.buffered > 0) {
    std::size_t take = std::min(size, 64 - chain.buffered);
    std::memcpy(chain.buffer + chain.buffered, data, take);
    chain.buffered += take;
    data += take;
    size -= take;
    if (chain.buffered < 64) return;
    compress_one(chain, chain.buffer, 1);
    chain.buffered = 0;
  }
  compress_one(chain, data, size / 64);
  std::memcpy(chain.buffer, data + size / 64 * 64, size % 64);
  chain.buffered = size % 64;
}

// Both chains take the same bytes; when their buffers line up (always, for
// parts that start on a 64-byte boundary of the file) every block is shared.
void update_two(Chain& first, Chain& second, const std::uint8_t* data, std::size_t size) {
  if (first.buffered != second.buffered) {
    update_one(first, data, size);
    update_one(second, data, size);
    return;
  }
  first.length += size;
  second.length += size;
  if (first.buffered > 0) {
    std::size_t take = std::min(size, 64 - first.buffered);
    std::memcpy(first.buffer + first.buffered, data, take);
    std::memcpy(second.buffer + second.buffered, data, take);
    first.buffered += take;
    second.buffered += take;
    data += take;
    size -= take;
    if (first.buffered < 64) return;
    compress_two(first, second, first.buffer, 1);
    first.buffered = second.buffered = 0;
  }
  compress_two(first, second, data, size / 64);
  std::size_t tail = size % 64;
  std::memcpy(first.buffer, data + size - tail, tail);
  std::memcpy(second.buffer, data + size - tail, tail);
  first.buffered = second.buffered = tail;
}

Sha256Twin::Digest finish_chain(Chain& chain) {
  std::uint64_t bits = chain.length * 8;
  std::uint8_t padding[128] = {0x80};
  std::size_t pad = (chain.buffered < 56 ? 56 : 120) - chain.buffered;
  for (std::size_t i = 0; i < 8; ++i) {
    padding[pad + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  }
  update_one(chain, padding, pad + 8);
  Sha256Twin::Digest digest{};
  for (std::size_t i = 0; i < 8; ++i) {
    for (std::size_t b = 0; b < 4; ++b) {
      digest[4 * i + b] = static_cast<std::uint8_t>(chain.h[i] >> (24 - 8 * b));
    }
  }
  chain.reset();
  return digest;
}

#endif  // SWITCHYARD_SHA_NI

}  // namespace

bool Sha256Twin::accelerated() {
#ifdef SWITCHYARD_SHA_NI
  static const bool has = cpu_has_sha_extensions();
  return has;
#else
  return false;
#endif
}

struct Sha256Twin::State {
  bool native = false;
#ifdef SWITCHYARD_SHA_NI
  Chain part;
  Chain whole;
#endif
  // The fallback.
  std::unique_ptr<Sha256> part_openssl;
  std::unique_ptr<Sha256> whole_openssl;
};

Sha256Twin::Sha256Twin(Engine engine) : m_state(std::make_unique<State>()) {
  m_state->native = engine == Engine::automatic && accelerated();
  if (!m_state->native) {
    m_state->part_openssl = std::make_unique<Sha256>();
    m_state->whole_openssl = std::make_unique<Sha256>();
  }
}

Sha256Twin::~Sha256Twin() = default;

void Sha256Twin::update(const void* data, std::size_t size) {
#ifdef SWITCHYARD_SHA_NI
  if (m_state->native) {
    update_two(m_state->part, m_state->whole, static_cast<const std::uint8_t*>(data), size);
    return;
  }
#endif
  m_state->part_openssl->update(data, size);
  m_state->whole_openssl->update(data, size);
}

Sha256Twin::Digest Sha256Twin::finish_part() {
#ifdef SWITCHYARD_SHA_NI
  if (m_state->native) return finish_chain(m_state->part);
#endif
  auto digest = m_state->part_openssl->finish();
  m_state->part_openssl = std::make_unique<Sha256>();
  return digest;
}

Sha256Twin::Digest Sha256Twin::finish_whole() {
#ifdef SWITCHYARD_SHA_NI
  if (m_state->native) return finish_chain(m_state->whole);
#endif
  return m_state->whole_openssl->finish();
}

}  // namespace switchyard
