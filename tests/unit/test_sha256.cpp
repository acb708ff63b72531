#include "runner/util/sha256.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

using switchyard::sha256_file;
using switchyard::sha256_hex;

// FIPS 180-2 vectors.
TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, FileMatchesStreamedDigestAcrossBufferBoundaries) {
  std::string path = testing::TempDir() + "/sha256-" + std::to_string(::getpid());
  // A million 'a' characters: the FIPS 180-2 long-message vector, larger
  // than one read buffer is not needed for it, so add a 3 MiB tail as well.
  std::string million(1'000'000, 'a');
  {
    std::ofstream out(path, std::ios::binary);
    out << million;
  }
  EXPECT_EQ(*sha256_file(path), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  std::string big(3 * 1024 * 1024 + 17, 'x');
  {
    std::ofstream out(path, std::ios::binary);
    out << big;
  }
  EXPECT_EQ(*sha256_file(path), sha256_hex(big));
  ::unlink(path.c_str());
}

TEST(Sha256, MissingFileIsAUsageErrorNamingThePath) {
  auto digest = sha256_file("/nonexistent/switchyard.jar");
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.error().code, switchyard::ExitCode::Usage);
  EXPECT_EQ(digest.error().message.rfind("/nonexistent/switchyard.jar: cannot read", 0), 0u);
}
