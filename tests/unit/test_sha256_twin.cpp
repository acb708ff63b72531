#include "runner/util/sha256_twin.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "runner/util/sha256.hpp"

using switchyard::sha256_hex;
using switchyard::Sha256Twin;
using switchyard::to_hex;

namespace {

std::string hex(const Sha256Twin::Digest& digest) {
  return to_hex(digest.data(), digest.size());
}

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (auto& byte : bytes)
    byte = static_cast<char>(generator());
  return bytes;
}

// Both engines: the CPU's SHA extensions (when this machine has them) and
// the OpenSSL fallback every other machine uses.
class Sha256TwinTest : public testing::TestWithParam<Sha256Twin::Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Sha256Twin::Engine::automatic && !Sha256Twin::accelerated()) {
      std::printf("this CPU has no SHA extensions: the automatic engine is the OpenSSL one\n");
    }
  }
};

}  // namespace

TEST_P(Sha256TwinTest, KnownVectors) {
  Sha256Twin twin(GetParam());
  twin.update("abc", 3);
  EXPECT_EQ(hex(twin.finish_part()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(twin.finish_whole()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  Sha256Twin empty(GetParam());
  EXPECT_EQ(hex(empty.finish_part()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(empty.finish_whole()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// Every length around the block and padding boundaries, fed in one piece
// and in ragged pieces.
TEST_P(Sha256TwinTest, EveryLengthAroundTheBlockBoundariesMatchesOpenSsl) {
  std::string bytes = random_bytes(300, 1);
  for (std::size_t size = 0; size <= bytes.size(); ++size) {
    std::string_view data(bytes.data(), size);
    std::string expected = sha256_hex(data);

    Sha256Twin whole_piece(GetParam());
    whole_piece.update(data.data(), data.size());
    ASSERT_EQ(hex(whole_piece.finish_part()), expected) << size << " bytes";
    ASSERT_EQ(hex(whole_piece.finish_whole()), expected) << size << " bytes";

    Sha256Twin ragged(GetParam());
    for (std::size_t at = 0, step = 1; at < size; at += step, step = step * 3 % 97 + 1)
      ragged.update(data.data() + at, std::min(step, size - at));
    ASSERT_EQ(hex(ragged.finish_part()), expected) << size << " bytes, ragged";
    ASSERT_EQ(hex(ragged.finish_whole()), expected) << size << " bytes, ragged";
  }
}

// The way push-artifact uses it: parts in order, each part's digest
// finished while the whole file's goes on. Parts of 8 MiB start on block
// boundaries; the odd sizes also cover parts that do not.
TEST_P(Sha256TwinTest, PartDigestsAndTheWholeDigestMatchSeparateDigests) {
  for (std::size_t part_size : {std::size_t{1} << 20, std::size_t{100'003}, std::size_t{64}}) {
    std::string file = random_bytes(3 * part_size + 4321, 7);
    Sha256Twin twin(GetParam());
    for (std::size_t offset = 0; offset < file.size(); offset += part_size) {
      std::string_view part = std::string_view(file).substr(offset, part_size);
      // Fed in read-sized chunks, as from pread.
      for (std::size_t at = 0; at < part.size(); at += 65'536)
        twin.update(part.data() + at, std::min<std::size_t>(65'536, part.size() - at));
      ASSERT_EQ(hex(twin.finish_part()), sha256_hex(part))
          << "part at " << offset << " of " << part_size;
    }
    EXPECT_EQ(hex(twin.finish_whole()), sha256_hex(file)) << "parts of " << part_size;
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, Sha256TwinTest,
                         testing::Values(Sha256Twin::Engine::automatic,
                                         Sha256Twin::Engine::openssl),
                         [](const auto& info) {
                           return info.param == Sha256Twin::Engine::automatic ? "automatic"
                                                                              : "openssl";
                         });

// The benchmark's figures depend on the fast path being taken where the
// CPU allows it: the detection must agree with what the kernel reports.
TEST(Sha256Twin, UsesTheShaExtensionsExactlyWhenTheKernelReportsThem) {
#if defined(__x86_64__)
  std::ifstream cpuinfo("/proc/cpuinfo");
  if (!cpuinfo) GTEST_SKIP() << "no /proc/cpuinfo to compare the CPU detection with";
  std::string line;
  bool has_sha_ni = false;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0) {
      has_sha_ni = (line + " ").find(" sha_ni ") != std::string::npos;
      break;
    }
  }
  EXPECT_EQ(Sha256Twin::accelerated(), has_sha_ni);
#else
  EXPECT_FALSE(Sha256Twin::accelerated());
#endif
}
