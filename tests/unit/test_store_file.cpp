#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runner/core/manifest.hpp"
#include "runner/store/store.hpp"
#include "runner/util/sha256.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

class StoreFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/switchyard-store-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    m_root = pattern;
    fs::create_directories(m_root / "build");
    fs::create_directories(m_root / "store");
  }
  void TearDown() override { fs::remove_all(m_root); }

  fs::path write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }
  Manifest manifest_for(const fs::path& jar, const std::string& version = "1.0.0-abc") {
    Manifest manifest;
    manifest.app = "hello";
    manifest.version = version;
    manifest.file = jar.filename().string();
    manifest.size = fs::file_size(jar);
    manifest.sha256 = *sha256_file(jar);
    return manifest;
  }
  // Names in `directory` that are not the artifact or its manifest.
  static std::vector<std::string> leftovers(const fs::path& directory) {
    std::vector<std::string> out;
    if (!fs::exists(directory)) return out;
    for (const auto& entry : fs::directory_iterator(directory)) {
      out.push_back(entry.path().filename().string());
    }
    return out;
  }
  // Pushes `jar` described by `manifest` to the file store under m_root/store.
  Result<PushOutcome> push(const fs::path& jar, const Manifest& manifest, bool force = false) {
    PushRequest request;
    request.file = jar;
    request.manifest = manifest;
    request.force = force;
    StoreOptions store;
    store.uri = path_to_file_uri(m_root / "store");
    return push_artifact(request, store);
  }
  fs::path m_root;
};

TEST_F(StoreFileTest, PushStoresTheJarAndThenItsManifestUnderAppAndVersion) {
  auto jar = write(m_root / "build/hello.jar", "jar bytes v1");
  auto pushed = push(jar, manifest_for(jar));
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  auto stored = m_root / "store/hello/1.0.0-abc/hello.jar";
  EXPECT_EQ(pushed->artifact_uri, "file://" + stored.string());
  EXPECT_EQ(pushed->manifest_uri, "file://" + stored.string() + ".manifest.json");
  EXPECT_FALSE(pushed->already_present);
  EXPECT_EQ(read(stored), "jar bytes v1");
  auto manifest = read_manifest(manifest_path_for(stored));
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->sha256, sha256_hex("jar bytes v1"));
  EXPECT_EQ(leftovers(stored.parent_path()),
            (std::vector<std::string>{"hello.jar", "hello.jar.manifest.json"}))
      << "no temp file may remain";
}

TEST_F(StoreFileTest, TheSameBytesAgainAreANoOp) {
  auto jar = write(m_root / "build/hello.jar", "jar bytes v1");
  ASSERT_TRUE(push(jar, manifest_for(jar)).ok());
  auto stored = m_root / "store/hello/1.0.0-abc/hello.jar";
  auto before = fs::last_write_time(stored);
  auto again = push(jar, manifest_for(jar));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->already_present);
  EXPECT_EQ(fs::last_write_time(stored), before);
}

TEST_F(StoreFileTest, DifferentBytesUnderAnExistingVersionAreRefused) {
  auto jar = write(m_root / "build/hello.jar", "jar bytes v1");
  ASSERT_TRUE(push(jar, manifest_for(jar)).ok());
  write(jar, "jar bytes v2, rebuilt");
  auto refused = push(jar, manifest_for(jar));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ExitCode::Usage);
  EXPECT_EQ(refused.error().message,
            "file://" + (m_root / "store/hello/1.0.0-abc/hello.jar").string() +
                ": a different artifact is already stored under version 1.0.0-abc; build a new "
                "version or pass --force");
  EXPECT_EQ(read(m_root / "store/hello/1.0.0-abc/hello.jar"), "jar bytes v1");
}

TEST_F(StoreFileTest, ForceReplacesTheStoredBytes) {
  auto jar = write(m_root / "build/hello.jar", "jar bytes v1");
  ASSERT_TRUE(push(jar, manifest_for(jar)).ok());
  write(jar, "jar bytes v2, rebuilt");
  auto forced = push(jar, manifest_for(jar), true);
  ASSERT_TRUE(forced.ok()) << forced.error().message;
  auto stored = m_root / "store/hello/1.0.0-abc/hello.jar";
  EXPECT_EQ(read(stored), "jar bytes v2, rebuilt");
  EXPECT_EQ(read_manifest(manifest_path_for(stored))->sha256, sha256_hex("jar bytes v2, rebuilt"));
}

TEST_F(StoreFileTest, ADamagedStoredManifestCountsAsOtherBytes) {
  auto jar = write(m_root / "build/hello.jar", "jar bytes v1");
  ASSERT_TRUE(push(jar, manifest_for(jar)).ok());
  auto stored = m_root / "store/hello/1.0.0-abc/hello.jar";
  write(manifest_path_for(stored), "{not json");
  auto refused = push(jar, manifest_for(jar));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ExitCode::Usage);
  EXPECT_NE(refused.error().message.find("a different artifact is already stored"),
            std::string::npos)
      << refused.error().message;
  auto forced = push(jar, manifest_for(jar), true);
  ASSERT_TRUE(forced.ok()) << forced.error().message;
  EXPECT_EQ(read_manifest(manifest_path_for(stored))->sha256, sha256_hex("jar bytes v1"));
}

TEST_F(StoreFileTest, AFileThatChangedAfterItsManifestIsRefusedAndNothingIsStored) {
  auto jar = write(m_root / "build/hello.jar", "jar bytes v1");
  auto manifest = manifest_for(jar);
  write(jar, "jar bytes v9");  // same size, other bytes
  auto refused = push(jar, manifest);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ExitCode::Failure);
  EXPECT_EQ(refused.error().message,
            jar.string() + ": sha256 " + sha256_hex("jar bytes v9") +
                " does not match the expected " + sha256_hex("jar bytes v1") +
                "; the artifact changed after it was described, or the expected sha256 is wrong");
  EXPECT_TRUE(leftovers(m_root / "store/hello/1.0.0-abc").empty());
}

TEST_F(StoreFileTest, WhatAKilledPushLeftIsCleanedUpByTheNext) {
  auto jar = write(m_root / "build/hello.jar", "jar bytes v1");
  auto directory = m_root / "store/hello/1.0.0-abc";
  fs::create_directories(directory);
  // A push killed mid-copy leaves its temp file, and maybe the jar without
  // the manifest (killed between the two renames): neither counts as stored.
  write(directory / ".hello.jar.tmp-abcdefgh", "half");
  write(directory / "hello.jar", "half a jar");
  auto pushed = push(jar, manifest_for(jar));
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  EXPECT_FALSE(pushed->already_present);
  EXPECT_EQ(read(directory / "hello.jar"), "jar bytes v1");
  EXPECT_EQ(leftovers(directory),
            (std::vector<std::string>{"hello.jar", "hello.jar.manifest.json"}));
}

TEST_F(StoreFileTest, FetchCopiesTheArtifactAndItsManifestAndVerifies) {
  auto jar = write(m_root / "build/hello.jar", "jar bytes v1");
  ASSERT_TRUE(push(jar, manifest_for(jar)).ok());
  auto uri = "file://" + (m_root / "store/hello/1.0.0-abc/hello.jar").string();
  auto fetched = fetch_artifact(uri, m_root / "release", "");
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  EXPECT_EQ(fetched->path, m_root / "release/hello.jar");
  EXPECT_EQ(fetched->sha256, sha256_hex("jar bytes v1"));
  ASSERT_TRUE(fetched->manifest.has_value());
  EXPECT_EQ(fetched->manifest->version, "1.0.0-abc");
  EXPECT_EQ(read(m_root / "release/hello.jar"), "jar bytes v1");
  EXPECT_TRUE(fs::exists(m_root / "release/hello.jar.manifest.json"));
}

TEST_F(StoreFileTest, FetchRefusesAMismatchAndLeavesNoFile) {
  auto jar = write(m_root / "build/hello.jar", "jar bytes v1");
  std::string wrong(64, 'a');
  auto fetched = fetch_artifact(jar.string(), m_root / "release", wrong);
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code, ExitCode::Failure);
  EXPECT_EQ(fetched.error().message,
            jar.string() + ": sha256 " + sha256_hex("jar bytes v1") +
                " does not match the expected " + wrong +
                "; the artifact changed after it was described, or the expected sha256 is wrong");
  EXPECT_TRUE(leftovers(m_root / "release").empty());
}

TEST_F(StoreFileTest, FetchVerifiesAgainstTheManifestWhenNoHashIsGiven) {
  auto jar = write(m_root / "build/hello.jar", "jar bytes v1");
  ASSERT_TRUE(push(jar, manifest_for(jar)).ok());
  auto stored = m_root / "store/hello/1.0.0-abc/hello.jar";
  write(stored, "tampered jar");
  auto fetched = fetch_artifact("file://" + stored.string(), m_root / "release", "");
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code, ExitCode::Failure);
  EXPECT_TRUE(leftovers(m_root / "release").empty());
}

TEST_F(StoreFileTest, FetchOfAMissingArtifactSaysWhatToCheck) {
  auto fetched = fetch_artifact("file://" + (m_root / "store/none.jar").string(), m_root / "r", "");
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code, ExitCode::Unavailable);
  EXPECT_EQ(fetched.error().message,
            (m_root / "store/none.jar").string() +
                ": no such artifact; check the URI and that it was pushed");
  auto unknown = fetch_artifact("ftp://host/x.jar", m_root / "r", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "ftp://host/x.jar: unknown store; use a path, file://, s3:// or http(s)://");
}

TEST(StoreFetchName, AnEncodedSlashCannotClimbOutOfTheDirectory) {
  auto fetched = fetch_artifact("http://127.0.0.1:9/x/..%2F..%2Fevil.jar", "/tmp/unused-dir", "");
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code, ExitCode::Usage);
  EXPECT_EQ(fetched.error().message,
            "http://127.0.0.1:9/x/..%2F..%2Fevil.jar: the file name holds an encoded '/'; give "
            "the artifact's plain URI");
  std::filesystem::remove_all("/tmp/unused-dir");
}

TEST(StoreDefault, RootUsesVarLibOthersTheirDataHome) {
  if (::geteuid() == 0) {
    EXPECT_EQ(default_store_uri(), "file:///var/lib/switchyard/artifacts");
  } else {
    ::setenv("XDG_DATA_HOME", "/home/u/.data", 1);
    EXPECT_EQ(default_store_uri(), "file:///home/u/.data/switchyard/artifacts");
  }
}

}  // namespace
}  // namespace switchyard
