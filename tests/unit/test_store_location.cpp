#include "runner/store/location.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

namespace fs = std::filesystem;

Location parsed(std::string_view uri) {
  auto location = parse_location(uri);
  EXPECT_TRUE(location.ok()) << location.error().message;
  return location.ok() ? *location : Location{};
}

std::string refusal(std::string_view uri) {
  auto location = parse_location(uri);
  EXPECT_FALSE(location.ok()) << uri << " was accepted";
  if (location.ok()) return "";
  EXPECT_EQ(location.error().code, ExitCode::Usage);
  return location.error().message;
}

TEST(StoreLocation, FileUrisDecodeAndRoundTrip) {
  auto location = parsed("file:///var/lib/x");
  EXPECT_EQ(location.kind, LocationKind::File);
  EXPECT_EQ(location.path, fs::path("/var/lib/x"));
  EXPECT_EQ(parsed("file:///tmp/a%20b/").path, fs::path("/tmp/a b/"));
  // A '%' without two hex digits after it is part of the name.
  EXPECT_EQ(parsed("file:///tmp/100%-done/a%2").path, fs::path("/tmp/100%-done/a%2"));
  EXPECT_EQ(parsed("file:///tmp/a%+1b").path, fs::path("/tmp/a%+1b"));
  EXPECT_EQ(parsed("file:///tmp/./x/../y").path, fs::path("/tmp/y"));
  EXPECT_EQ(path_to_file_uri("/tmp/a b"), "file:///tmp/a%20b");
  EXPECT_EQ(parsed(path_to_file_uri("/tmp/50% off")).path, fs::path("/tmp/50% off"));
}

TEST(StoreLocation, FileUrisNeedAnAbsolutePathAndNoHost) {
  EXPECT_EQ(refusal("file://server/x"),
            "file://server/x: a file:// URI needs an absolute path and no host; write "
            "file:///absolute/path");
  EXPECT_EQ(refusal("file:relative/x"),
            "file:relative/x: not a file:// URI; write file:///absolute/path");
}

TEST(StoreLocation, S3UrisSplitIntoBucketAndKey) {
  auto location = parsed("s3://artifacts/team/service/");
  EXPECT_EQ(location.kind, LocationKind::S3);
  EXPECT_EQ(location.bucket, "artifacts");
  EXPECT_EQ(location.key, "team/service");
  EXPECT_EQ(location.uri, "s3://artifacts/team/service");
  auto bare = parsed("s3://my.bucket-1");
  EXPECT_EQ(bare.bucket, "my.bucket-1");
  EXPECT_EQ(bare.key, "");
  EXPECT_EQ(bare.below("app/1.0/app.jar").uri, "s3://my.bucket-1/app/1.0/app.jar");
}

TEST(StoreLocation, S3UrisRefuseWhatIsNotABucket) {
  for (std::string uri : {"s3://My_Bucket/x", "s3://ab/x", "s3:///x"}) {
    EXPECT_EQ(refusal(uri), uri +
                                ": not a valid bucket name (3 to 63 lower-case letters, "
                                "digits, '-' and '.'); write s3://bucket/prefix");
  }
}

TEST(StoreLocation, HttpUrlsKeepTheirQueryOutOfMessages) {
  auto location = parsed("https://bucket.s3.amazonaws.com/a/app.jar?X-Amz-Signature=secret");
  EXPECT_EQ(location.kind, LocationKind::Http);
  EXPECT_EQ(location.subject(), "https://bucket.s3.amazonaws.com/a/app.jar");
  EXPECT_EQ(*location.file_name(), "app.jar");
  EXPECT_EQ(parsed("http://h/x/app.jar").manifest_beside().uri, "http://h/x/app.jar.manifest.json");
}

TEST(StoreLocation, APlainPathIsALocalPathAndAnUnknownSchemeIsRefused) {
  auto location = parsed("build/app.jar");
  EXPECT_EQ(location.kind, LocationKind::Path);
  EXPECT_EQ(location.path, fs::path("build/app.jar"));
  EXPECT_EQ(location.manifest_beside().path, fs::path("build/app.jar.manifest.json"));
  EXPECT_EQ(refusal("ftp://host/x.jar"),
            "ftp://host/x.jar: unknown store; use a path, file://, s3:// or http(s)://");
  EXPECT_EQ(refusal("gs://bucket/x"),
            "gs://bucket/x: unknown store; use a path, file://, s3:// or http(s)://");
  EXPECT_EQ(refusal(""), "the artifact URI is empty; give a path or a URI");
}

TEST(StoreLocation, BelowAStoreRootAndItsManifest) {
  auto root = parsed("file:///srv/store%20a");
  auto artifact = root.below("hello/1.0.0/hello.jar");
  EXPECT_EQ(artifact.path, fs::path("/srv/store a/hello/1.0.0/hello.jar"));
  EXPECT_EQ(artifact.uri, "file:///srv/store%20a/hello/1.0.0/hello.jar");
  EXPECT_EQ(artifact.manifest_beside().uri,
            "file:///srv/store%20a/hello/1.0.0/hello.jar.manifest.json");
  auto s3 = parsed("s3://artifacts/releases").below("hello/1.0.0/hello.jar");
  EXPECT_EQ(s3.key, "releases/hello/1.0.0/hello.jar");
  EXPECT_EQ(s3.manifest_beside().key, "releases/hello/1.0.0/hello.jar.manifest.json");
  EXPECT_EQ(s3.manifest_beside().uri,
            "s3://artifacts/releases/hello/1.0.0/hello.jar.manifest.json");
}

TEST(StoreLocation, AFileNameCannotClimbOutOfTheDirectory) {
  auto encoded = parsed("http://127.0.0.1:9/x/..%2F..%2Fevil.jar").file_name();
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.error().code, ExitCode::Usage);
  EXPECT_EQ(encoded.error().message,
            "http://127.0.0.1:9/x/..%2F..%2Fevil.jar: the file name holds an encoded '/'; give "
            "the artifact's plain URI");
  auto s3 = parsed("s3://bucket/a%2F..%2Fb.jar").file_name();
  ASSERT_FALSE(s3.ok());
  auto nothing = parsed("http://host/dir/").file_name();
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().message,
            "http://host/dir/: names no file; give the artifact's full URI");
  auto dots = parsed("s3://bucket/..").file_name();
  ASSERT_FALSE(dots.ok());
  EXPECT_EQ(*parsed("s3://bucket/t/a%20b.jar").file_name(), "a b.jar");
  EXPECT_EQ(*parsed("file:///srv/a%20b.jar").file_name(), "a b.jar");
}

}  // namespace
}  // namespace switchyard
