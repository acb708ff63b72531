#include "runner/core/manifest.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using switchyard::ExitCode;
using switchyard::Manifest;

Manifest sample_manifest() {
  Manifest manifest;
  manifest.app = "hello-service";
  manifest.version = "1.0.0-3f2a9c1";
  manifest.app_version = "1.0.0";
  manifest.git_sha = "3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c";
  manifest.branch = "main";
  manifest.built_at = "2026-11-23T15:30:00Z";
  manifest.file = "hello-service-1.0.0.jar";
  manifest.size = 5'000'000'000ULL;  // beyond 32 bits, so the integer path is exercised
  manifest.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  manifest.build_tool = "maven";
  manifest.java_version = "17.0.9";
  return manifest;
}

// A fresh directory per test, removed afterwards.
class ManifestFiles : public testing::Test {
 protected:
  void SetUp() override {
    m_directory = fs::path(testing::TempDir()) /
                  ("manifest-" + std::to_string(::getpid()) + "-" +
                   testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_directory);
    fs::create_directories(m_directory);
  }
  void TearDown() override { fs::remove_all(m_directory); }
  fs::path m_directory;
};

// Replaces (or with an empty `value`, removes) one field of the sample's JSON.
std::string sample_with(std::string_view key, const boost::json::value* value) {
  boost::json::object object = boost::json::parse(manifest_to_json(sample_manifest())).as_object();
  if (value == nullptr) {
    object.erase(key);
  } else {
    object[key] = *value;
  }
  return boost::json::serialize(object);
}

std::string error_for(std::string_view text) {
  auto result = switchyard::manifest_from_json(text, "dist/app.jar.manifest.json");
  EXPECT_FALSE(result.ok());
  if (result.ok()) return "";
  EXPECT_EQ(result.error().code, ExitCode::Usage);
  return result.error().message;
}

TEST(Manifest, PathSitsBesideTheArtifact) {
  EXPECT_EQ(switchyard::manifest_path_for("target/app-1.0.jar"),
            fs::path("target/app-1.0.jar.manifest.json"));
  EXPECT_EQ(switchyard::manifest_path_for("/srv/a.jar"), fs::path("/srv/a.jar.manifest.json"));
}

TEST(Manifest, JsonHasEveryDesignFieldInOrder) {
  std::string text = manifest_to_json(sample_manifest());
  boost::json::object object = boost::json::parse(text).as_object();
  std::vector<std::string> keys;
  for (const auto& [key, value] : object)
    keys.emplace_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"app", "version", "app_version", "git_sha", "branch",
                                            "built_at", "file", "size", "sha256", "build_tool",
                                            "java_version"}));
  EXPECT_EQ(object["size"].to_number<std::uint64_t>(), 5'000'000'000ULL);
  EXPECT_EQ(object["app"].as_string(), "hello-service");
  EXPECT_EQ(text.back(), '\n');
}

TEST(Manifest, RoundTripsEveryField) {
  Manifest original = sample_manifest();
  auto parsed = switchyard::manifest_from_json(manifest_to_json(original), "x");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->app, original.app);
  EXPECT_EQ(parsed->version, original.version);
  EXPECT_EQ(parsed->app_version, original.app_version);
  EXPECT_EQ(parsed->git_sha, original.git_sha);
  EXPECT_EQ(parsed->branch, original.branch);
  EXPECT_EQ(parsed->built_at, original.built_at);
  EXPECT_EQ(parsed->file, original.file);
  EXPECT_EQ(parsed->size, original.size);
  EXPECT_EQ(parsed->sha256, original.sha256);
  EXPECT_EQ(parsed->build_tool, original.build_tool);
  EXPECT_EQ(parsed->java_version, original.java_version);
}

TEST(Manifest, OptionalFieldsMayBeAbsentAndUnknownFieldsAreIgnored) {
  std::string text =
      R"({"app":"a","version":"1","file":"a.jar","size":3,)"
      R"("sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",)"
      R"("added_later":{"x":1}})";
  auto parsed = switchyard::manifest_from_json(text, "x");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->git_sha, "");
  EXPECT_EQ(parsed->size, 3u);
}

TEST(Manifest, MalformedJsonNamesTheOrigin) {
  std::string message = error_for("{\"app\": ");
  EXPECT_EQ(message.rfind("dist/app.jar.manifest.json: not a JSON manifest (", 0), 0u) << message;
  EXPECT_NE(message.find("; rebuild the artifact with switchyard-build-jar"), std::string::npos);
  EXPECT_EQ(error_for("[1,2]"),
            "dist/app.jar.manifest.json: a manifest must be a JSON object; rebuild the artifact "
            "with switchyard-build-jar");
}

TEST(Manifest, MissingRequiredFieldIsNamed) {
  for (const char* key : {"app", "version", "file", "size", "sha256"}) {
    EXPECT_EQ(error_for(sample_with(key, nullptr)),
              std::string("dist/app.jar.manifest.json: manifest field \"") + key +
                  "\" missing; rebuild the artifact with switchyard-build-jar");
  }
}

// A field set to a value the reader refuses, and what it must be instead.
struct RefusedField {
  const char* key;
  boost::json::value value;
  const char* must_be;
};

void expect_refused(const std::vector<RefusedField>& cases) {
  for (const auto& refused : cases) {
    EXPECT_EQ(error_for(sample_with(refused.key, &refused.value)),
              std::string("dist/app.jar.manifest.json: manifest field \"") + refused.key +
                  "\" must be " + refused.must_be +
                  "; rebuild the artifact with switchyard-build-jar");
  }
}

TEST(Manifest, WrongTypesAreNamed) {
  expect_refused({
      {"git_sha", 42, "a string"},
      {"size", -1, "a non-negative integer (bytes)"},
      {"size", "12", "a non-negative integer (bytes)"},
  });
}

// Version, app and file end up in paths and object keys on the host: a
// manifest that could climb out of a directory is refused.
TEST(Manifest, RefusesValuesThatWouldEscapeADirectory) {
  expect_refused({
      {"version", "..", "a label of letters, digits, '.', '_', '-'"},
      {"app", "a/b", "a name of letters, digits, '.', '_', '-'"},
      {"file", "../etc/passwd", "a file name without a directory"},
      {"sha256", boost::json::value(std::string(64, 'A')), "64 lower-case hex digits"},
  });
}

TEST_F(ManifestFiles, WriteThenReadRoundTripsAndLeavesNoTemporary) {
  fs::path path = m_directory / "app.jar.manifest.json";
  ASSERT_TRUE(write_manifest(sample_manifest(), path).ok());
  auto read = switchyard::read_manifest(path);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->version, "1.0.0-3f2a9c1");
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(m_directory))
    entries.push_back(entry.path());
  EXPECT_EQ(entries, std::vector<fs::path>{path});
}

TEST_F(ManifestFiles, WriteReplacesAnExistingManifestWhole) {
  fs::path path = m_directory / "app.jar.manifest.json";
  {
    // A longer old file: a non-atomic in-place write would leave its tail.
    std::ofstream out(path);
    out << std::string(4096, ' ') << "{}";
  }
  Manifest manifest = sample_manifest();
  manifest.version = "2.0.0-abcdef0";
  ASSERT_TRUE(write_manifest(manifest, path).ok());
  auto read = switchyard::read_manifest(path);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->version, "2.0.0-abcdef0");
}

TEST_F(ManifestFiles, WriteIntoAMissingDirectorySaysSo) {
  fs::path path = m_directory / "missing" / "app.jar.manifest.json";
  auto written = write_manifest(sample_manifest(), path);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, ExitCode::Failure);
  EXPECT_EQ(written.error().message,
            path.string() +
                ": cannot create a temp file beside it (No such file or directory); check that "
                "the directory exists and is writable");
}

TEST_F(ManifestFiles, ReadingAMissingManifestSaysWhatToDo) {
  fs::path path = m_directory / "nothing.jar.manifest.json";
  auto read = switchyard::read_manifest(path);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ExitCode::Usage);
  EXPECT_EQ(read.error().message,
            path.string() + ": no manifest here; build the artifact with switchyard-build-jar");
}

TEST_F(ManifestFiles, ReadingABrokenManifestNamesTheFile) {
  fs::path path = m_directory / "broken.jar.manifest.json";
  {
    std::ofstream out(path);
    out << R"({"app":"a"})";
  }
  auto read = switchyard::read_manifest(path);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message,
            path.string() +
                ": manifest field \"version\" missing; rebuild the artifact with "
                "switchyard-build-jar");
}

}  // namespace
