#include <gtest/gtest.h>

#include <vector>

#include "runner/aws/s3_client.hpp"
#include "runner/util/sha256.hpp"

namespace switchyard {
namespace {

TEST(S3Plan, SmallFilesUseTheMinimumPartSize) {
  auto plan = plan_multipart(20 * k_mib);
  EXPECT_EQ(plan.part_size, 8 * k_mib);
  EXPECT_EQ(plan.part_count, 3u);
  EXPECT_EQ(plan.part(0).offset, 0u);
  EXPECT_EQ(plan.part(0).number, 1u);
  EXPECT_EQ(plan.part(2).number, 3u);
  EXPECT_EQ(plan.part(2).offset, 16 * k_mib);
  EXPECT_EQ(plan.part(2).size, 4 * k_mib);
}

TEST(S3Plan, OneGibibyteIs128PartsOf8MiB) {
  auto plan = plan_multipart(1024 * k_mib);
  EXPECT_EQ(plan.part_size, 8 * k_mib);
  EXPECT_EQ(plan.part_count, 128u);
  EXPECT_EQ(plan.part(127).size, 8 * k_mib);
}

TEST(S3Plan, HugeFilesGrowThePartSoNoUploadNeedsMoreThan10000Parts) {
  // 200 GiB / 10,000 = 20.48 MiB, rounded up to 21 MiB.
  std::uint64_t size = 200ull * 1024 * k_mib;
  auto plan = plan_multipart(size);
  EXPECT_EQ(plan.part_size, 21 * k_mib);
  EXPECT_LE(plan.part_count, k_max_parts);
  auto last = plan.part(plan.part_count - 1);
  EXPECT_EQ(last.offset + last.size, size);
  EXPECT_GT(last.size, 0u);
}

TEST(S3Plan, AnExactMultipleHasNoEmptyLastPart) {
  auto plan = plan_multipart(24 * k_mib);
  EXPECT_EQ(plan.part_count, 3u);
  EXPECT_EQ(plan.part(2).size, 8 * k_mib);
}

TEST(S3Plan, PartsCoverTheFileExactlyForOddSizes) {
  for (std::uint64_t size :
       std::vector<std::uint64_t>{8 * k_mib + 1, 77 * k_mib + 12345, 5ull * 1024 * k_mib + 7}) {
    auto plan = plan_multipart(size);
    std::uint64_t covered = 0;
    for (std::uint32_t i = 0; i < plan.part_count; ++i) {
      auto part = plan.part(i);
      EXPECT_EQ(part.offset, covered);
      EXPECT_GT(part.size, 0u);
      covered += part.size;
    }
    EXPECT_EQ(covered, size);
  }
}

TEST(S3Plan, ASmallerMinimumIsHonouredForTests) {
  auto plan = plan_multipart(20 * k_mib, 5 * k_mib);
  EXPECT_EQ(plan.part_size, 5 * k_mib);
  EXPECT_EQ(plan.part_count, 4u);
}

TEST(S3Plan, PartSizeOverrideFromTheEnvironment) {
  ::setenv("SWITCHYARD_S3_PART_SIZE", "1048576", 1);
  EXPECT_EQ(configured_part_size(), k_mib);
  ::setenv("SWITCHYARD_S3_PART_SIZE", "12", 1);  // too small: ignored
  EXPECT_EQ(configured_part_size(), k_min_part_size);
  ::setenv("SWITCHYARD_S3_PART_SIZE", "lots", 1);
  EXPECT_EQ(configured_part_size(), k_min_part_size);
  ::unsetenv("SWITCHYARD_S3_PART_SIZE");
  EXPECT_EQ(configured_part_size(), k_min_part_size);
}

TEST(S3Checksum, Base64OfTheBinaryDigest) {
  // The x-amz-checksum-sha256 of "" and of "abc", as S3 documents them.
  Sha256 empty;
  auto digest = empty.finish();
  EXPECT_EQ(base64_encode(digest.data(), digest.size()),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  Sha256 abc;
  abc.update("abc");
  digest = abc.finish();
  EXPECT_EQ(base64_encode(digest.data(), digest.size()),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

TEST(S3Checksum, Base64Padding) {
  const std::uint8_t bytes[] = {'f', 'o', 'o', 'b', 'a', 'r'};
  EXPECT_EQ(base64_encode(bytes, 0), "");
  EXPECT_EQ(base64_encode(bytes, 1), "Zg==");
  EXPECT_EQ(base64_encode(bytes, 2), "Zm8=");
  EXPECT_EQ(base64_encode(bytes, 3), "Zm9v");
  EXPECT_EQ(base64_encode(bytes, 6), "Zm9vYmFy");
}

TEST(S3Uri, NamesAnObject) {
  EXPECT_EQ(s3_uri("b", "k/x.jar"), "s3://b/k/x.jar");
}

}  // namespace
}  // namespace switchyard
