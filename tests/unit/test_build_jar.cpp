#include "steps/build-jar/build_jar.hpp"
#include "steps/build-jar/options.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/util/time.hpp"

namespace {

namespace fs = std::filesystem;
namespace bj = switchyard::steps::build_jar;
using switchyard::ExitCode;

// A fresh directory per test, removed afterwards.
class BuildJarFiles : public testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::path(testing::TempDir()) /
            ("build-jar-" + std::to_string(::getpid()) + "-" +
             testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  void write(const fs::path& relative, std::string_view text, bool executable = false) {
    fs::create_directories((m_dir / relative).parent_path());
    std::ofstream out(m_dir / relative, std::ios::binary);
    out << text;
    out.close();
    if (executable) ::chmod((m_dir / relative).c_str(), 0755);
  }

  bj::PlanInput input(bj::Tool tool = bj::Tool::Auto, std::set<std::string> path = {}) {
    bj::PlanInput in;
    in.project_dir = m_dir;
    in.tool = tool;
    in.on_path = [path](std::string_view program) { return path.count(std::string(program)) != 0; };
    return in;
  }

  fs::path m_dir;
};

// --- tool detection -----------------------------------------------------

TEST(BuildJarTool, ParsesKnownNamesAndRefusesOthers) {
  EXPECT_EQ(*bj::parse_tool("auto", "--tool"), bj::Tool::Auto);
  EXPECT_EQ(*bj::parse_tool("gradle", "--tool"), bj::Tool::Gradle);
  EXPECT_EQ(*bj::parse_tool("maven", "--tool"), bj::Tool::Maven);
  EXPECT_EQ(*bj::parse_tool("command", "--tool"), bj::Tool::Command);
  auto bad = bj::parse_tool("ant", "--tool");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ExitCode::Usage);
  EXPECT_EQ(bad.error().message,
            "--tool: unknown build tool \"ant\"; use auto, gradle, maven or command");
}

TEST_F(BuildJarFiles, GradleWrapperWinsAndSpringBootGetsBootJar) {
  write("gradlew", "#!/bin/sh\n", true);
  write("pom.xml", "<project/>");
  write("build.gradle", "plugins { id 'org.springframework.boot' version '3.2.0' }\n");
  auto plan = bj::plan_build(input(bj::Tool::Auto, {"gradle", "mvn"}));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->tool, bj::Tool::Gradle);
  EXPECT_EQ(plan->argv, (std::vector<std::string>{(m_dir / "gradlew").string(), "--no-daemon",
                                                  "--console=plain", "bootJar"}));
  EXPECT_EQ(plan->jar_dirs, std::vector<std::string>{"build/libs"});
  EXPECT_EQ(plan->reason, "found ./gradlew");
}

TEST_F(BuildJarFiles, GradleWithoutSpringBootAssembles) {
  write("build.gradle.kts", "plugins { java }\n");
  auto plan = bj::plan_build(input(bj::Tool::Auto, {"gradle"}));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->argv,
            (std::vector<std::string>{"gradle", "--no-daemon", "--console=plain", "assemble"}));
}

TEST_F(BuildJarFiles, WrapperWithoutExecutableBitRunsUnderSh) {
  write("mvnw", "#!/bin/sh\n", false);
  auto plan = bj::plan_build(input());
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->tool, bj::Tool::Maven);
  EXPECT_EQ(plan->argv, (std::vector<std::string>{"sh", (m_dir / "mvnw").string(), "-B", "-ntp",
                                                  "package", "-DskipTests"}));
  EXPECT_EQ(plan->jar_dirs, std::vector<std::string>{"target"});
}

TEST_F(BuildJarFiles, PomWithMvnOnPathAppendsBuildArgs) {
  write("pom.xml", "<project/>");
  auto in = input(bj::Tool::Auto, {"mvn"});
  in.extra_args = {"-o", "-Dmaven.repo.local=/usr/share/maven-repo"};
  auto plan = bj::plan_build(in);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->argv,
            (std::vector<std::string>{"mvn", "-B", "-ntp", "package", "-DskipTests", "-o",
                                      "-Dmaven.repo.local=/usr/share/maven-repo"}));
  EXPECT_EQ(plan->reason, "found pom.xml");
}

TEST_F(BuildJarFiles, PomWithoutMvnIsUnavailable) {
  write("pom.xml", "<project/>");
  auto plan = bj::plan_build(input());
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ExitCode::Unavailable);
  EXPECT_EQ(plan.error().message, m_dir.string() +
                                      ": a Maven build, but neither ./mvnw nor mvn on PATH; add "
                                      "the Maven wrapper or install maven");
}

TEST_F(BuildJarFiles, GradleBuildWithoutGradleIsUnavailable) {
  write("settings.gradle", "rootProject.name = 'x'\n");
  auto plan = bj::plan_build(input(bj::Tool::Auto, {"mvn"}));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ExitCode::Unavailable);
  EXPECT_EQ(plan.error().message,
            m_dir.string() +
                ": a Gradle build, but neither ./gradlew nor gradle on PATH; add the Gradle "
                "wrapper (gradle wrapper) or install Gradle");
}

TEST_F(BuildJarFiles, ConfiguredCommandWinsOverDetectionAndIsTakenAsWritten) {
  write("gradlew", "#!/bin/sh\n", true);
  auto in = input();
  in.command = {"make", "dist"};
  in.extra_args = {"-o"};
  auto plan = bj::plan_build(in);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->tool, bj::Tool::Command);
  EXPECT_EQ(plan->argv, (std::vector<std::string>{"make", "dist"}));
  EXPECT_EQ(plan->jar_dirs, (std::vector<std::string>{"target", "build/libs"}));
}

TEST_F(BuildJarFiles, ExplicitToolOverridesConfiguredCommand) {
  write("pom.xml", "<project/>");
  auto in = input(bj::Tool::Maven, {"mvn"});
  in.command = {"make", "dist"};
  auto plan = bj::plan_build(in);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->tool, bj::Tool::Maven);
}

TEST_F(BuildJarFiles, ToolCommandWithoutCommandIsAUsageError) {
  auto plan = bj::plan_build(input(bj::Tool::Command));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ExitCode::Usage);
  EXPECT_EQ(plan.error().message,
            "build.command: not set, but --tool command needs it; set build.command in "
            "switchyard.yml to the build's argument vector, e.g. [make, dist]");
}

TEST_F(BuildJarFiles, NothingToBuildSaysWhatToDo) {
  write("README.md", "hi");
  auto plan = bj::plan_build(input(bj::Tool::Auto, {"mvn", "gradle"}));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ExitCode::Usage);
  EXPECT_EQ(plan.error().message,
            m_dir.string() +
                ": no build found (no gradlew, mvnw, build.gradle or pom.xml); set build.command "
                "in switchyard.yml or pass --project");
}

TEST_F(BuildJarFiles, MissingProjectDirectory) {
  auto in = input();
  in.project_dir = m_dir / "nope";
  auto plan = bj::plan_build(in);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ExitCode::Usage);
  EXPECT_EQ(plan.error().message, (m_dir / "nope").string() +
                                      ": no such project directory; check --project or "
                                      "build.project_dir");
}

// --- jar selection -----------------------------------------------------

TEST(BuildJarSelect, SkipsJarsThatAreNotTheService) {
  EXPECT_TRUE(bj::is_runnable_jar_name("app-1.2.0.jar"));
  EXPECT_TRUE(bj::is_runnable_jar_name("app-all.jar"));
  EXPECT_TRUE(bj::is_runnable_jar_name("testing-service.jar"));
  for (const char* name :
       {"app-1.2.0-plain.jar", "app-1.2.0-sources.jar", "app-javadoc.jar", "app-tests.jar",
        "app-test.jar", "original-app-1.0.jar", "app.war", "app.jar.manifest.json"}) {
    EXPECT_FALSE(bj::is_runnable_jar_name(name)) << name;
  }
}

TEST(BuildJarSelect, PicksTheOneRunnableJar) {
  auto jar = bj::select_jar(
      {"build/libs/app-1.2.0-plain.jar", "build/libs/app-1.2.0.jar", "build/libs/app-sources.jar"},
      {"build/libs"}, "");
  ASSERT_TRUE(jar.ok()) << jar.error().message;
  EXPECT_EQ(*jar, "build/libs/app-1.2.0.jar");
}

TEST(BuildJarSelect, TwoCandidatesExitTwoListingThem) {
  auto jar = bj::select_jar({"build/libs/a.jar", "build/libs/b.jar"}, {"build/libs"}, "");
  ASSERT_FALSE(jar.ok());
  EXPECT_EQ(jar.error().code, ExitCode::Usage);
  EXPECT_EQ(jar.error().message,
            "build-jar: 2 runnable jars in build/libs (a.jar, b.jar); pick one with --jar GLOB");
}

TEST(BuildJarSelect, GlobPicksByNameOrByPath) {
  std::vector<std::string> jars = {"target/a.jar", "target/b.jar", "build/libs/b.jar"};
  std::vector<std::string> dirs = {"target", "build/libs"};
  EXPECT_EQ(*bj::select_jar(jars, dirs, "a*.jar"), "target/a.jar");
  EXPECT_EQ(*bj::select_jar(jars, dirs, "build/libs/*.jar"), "build/libs/b.jar");
  auto ambiguous = bj::select_jar(jars, dirs, "b.jar");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.error().message,
            "build-jar: 2 runnable jars in target and build/libs (target/b.jar, build/libs/b.jar); "
            "pick one with --jar GLOB");
}

TEST(BuildJarSelect, GlobMatchingPlainAndRunnablePrefersRunnable) {
  auto jar = bj::select_jar({"build/libs/app-1.0-plain.jar", "build/libs/app-1.0.jar"},
                            {"build/libs"}, "app-*.jar");
  ASSERT_TRUE(jar.ok()) << jar.error().message;
  EXPECT_EQ(*jar, "build/libs/app-1.0.jar");
  // Asked for by name, a -plain jar is what the user wants.
  EXPECT_EQ(*bj::select_jar({"build/libs/app-1.0-plain.jar", "build/libs/app-1.0.jar"},
                            {"build/libs"}, "*-plain.jar"),
            "build/libs/app-1.0-plain.jar");
}

TEST(BuildJarSelect, JarsLeftByAnEarlierBuildGiveWay) {
  std::vector<std::string> jars = {"target/app-1.0.jar", "target/app-1.1.jar"};
  EXPECT_EQ(*bj::select_jar(jars, {"target"}, "", {"target/app-1.0.jar"}), "target/app-1.1.jar");
  // An up-to-date build rewrote nothing: both count, and the user must pick.
  auto both = bj::select_jar(jars, {"target"}, "", jars);
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().message,
            "build-jar: 2 runnable jars in target (app-1.0.jar, app-1.1.jar); pick one with --jar "
            "GLOB");
}

TEST_F(BuildJarFiles, UnchangedJarsAreThoseWithTheSameTime) {
  write("target/old.jar", "x");
  write("target/rewritten.jar", "x");
  auto before = bj::jar_times(m_dir, {"target"});
  fs::last_write_time(
      m_dir / "target/rewritten.jar",
      fs::last_write_time(m_dir / "target/rewritten.jar") + std::chrono::seconds(5));
  write("target/new.jar", "x");
  EXPECT_EQ(bj::unchanged_jars(before, bj::jar_times(m_dir, {"target"})),
            std::vector<std::string>{"target/old.jar"});
}

TEST(BuildJarSelect, NoMatchAndNoCandidateExitOne) {
  auto none = bj::select_jar({"target/app-sources.jar"}, {"target"}, "");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ExitCode::Failure);
  EXPECT_EQ(none.error().message,
            "build-jar: no runnable jar in target after the build (skipped: app-sources.jar); "
            "check the build's packaging, or pick one with --jar GLOB");
  auto empty = bj::select_jar({}, {"target", "build/libs"}, "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message,
            "build-jar: no runnable jar in target or build/libs after the build; check the "
            "build's packaging, or pick one with --jar GLOB");
  auto glob = bj::select_jar({"target/app.jar"}, {"target"}, "x*.jar");
  ASSERT_FALSE(glob.ok());
  EXPECT_EQ(glob.error().code, ExitCode::Failure);
  EXPECT_EQ(glob.error().message,
            "build-jar: --jar x*.jar matches no jar in target (found: app.jar); fix the pattern "
            "or check the build's output");
}

TEST_F(BuildJarFiles, ListsOnlyJarFilesSorted) {
  write("target/b.jar", "x");
  write("target/a.jar", "x");
  write("target/a.jar.manifest.json", "{}");
  write("target/classes/C.class", "x");
  fs::create_directories(m_dir / "target" / "dir.jar");
  EXPECT_EQ(bj::list_jars(m_dir, {"target", "build/libs"}),
            (std::vector<std::string>{"target/a.jar", "target/b.jar"}));
}

// --- zip and MANIFEST.MF -------------------------------------------------

void put16(std::string& out, unsigned value) {
  out += static_cast<char>(value & 0xff);
  out += static_cast<char>((value >> 8) & 0xff);
}
void put32(std::string& out, unsigned long value) {
  for (int i = 0; i < 4; ++i)
    out += static_cast<char>((value >> (8 * i)) & 0xff);
}

std::string raw_deflate(const std::string& data) {
  z_stream stream{};
  deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// A zip written the way the format describes it (local headers, central
// directory, end record with a comment), independent of the reader under test.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& entries,
                     bool deflated) {
  std::string out;
  std::string directory;
  for (const auto& [name, data] : entries) {
    std::string stored = deflated ? raw_deflate(data) : data;
    unsigned long crc =
        crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
    unsigned long offset = out.size();
    put32(out, 0x04034b50);
    put16(out, 20);
    put16(out, 0);
    put16(out, deflated ? 8 : 0);
    put16(out, 0);
    put16(out, 0);
    put32(out, crc);
    put32(out, stored.size());
    put32(out, data.size());
    put16(out, static_cast<unsigned>(name.size()));
    put16(out, 4);  // an extra field, as jar tools write, to be skipped
    out += name;
    out += std::string("\xfe\xca\0\0", 4);
    out += stored;

    put32(directory, 0x02014b50);
    put16(directory, 20);
    put16(directory, 20);
    put16(directory, 0);
    put16(directory, deflated ? 8 : 0);
    put16(directory, 0);
    put16(directory, 0);
    put32(directory, crc);
    put32(directory, stored.size());
    put32(directory, data.size());
    put16(directory, static_cast<unsigned>(name.size()));
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put32(directory, 0);
    put32(directory, offset);
    directory += name;
  }
  unsigned long directory_offset = out.size();
  out += directory;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<unsigned>(entries.size()));
  put16(out, static_cast<unsigned>(entries.size()));
  put32(out, directory.size());
  put32(out, directory_offset);
  std::string comment = "a zip comment";
  put16(out, static_cast<unsigned>(comment.size()));
  out += comment;
  return out;
}

const std::string k_manifest_text =
    "Manifest-Version: 1.0\r\n"
    "Created-By: Maven JAR Plugin 3.3.0\r\n"
    "Build-Jdk-Spec: 17\r\n"
    "Implementation-Title: hello-service\r\n"
    "Implementation-Version: 1.2.0\r\n"
    "Main-Class: com.example.hello.VeryLongPackageNameThatWrapsAtSeventyTwoBytesInAManifes\r\n"
    " tLine\r\n"
    "\r\n"
    "Name: com/example/\r\n"
    "Implementation-Version: 9.9.9\r\n"
    "\r\n";

TEST_F(BuildJarFiles, ReadsStoredAndDeflatedZipEntries) {
  for (bool deflated : {false, true}) {
    write("app.jar", make_zip({{"META-INF/", ""},
                               {"META-INF/MANIFEST.MF", k_manifest_text},
                               {"com/example/App.class", std::string(1000, 'c')}},
                              deflated));
    auto text = bj::read_zip_entry(m_dir / "app.jar", "META-INF/MANIFEST.MF");
    ASSERT_TRUE(text.ok()) << text.error().message;
    EXPECT_EQ(*text, k_manifest_text) << "deflated=" << deflated;
  }
}

TEST_F(BuildJarFiles, ZipErrorsNameTheFile) {
  write("short.jar", "PK");
  auto short_read = bj::read_zip_entry(m_dir / "short.jar", "META-INF/MANIFEST.MF");
  ASSERT_FALSE(short_read.ok());
  EXPECT_EQ(short_read.error().message,
            (m_dir / "short.jar").string() + ": not a jar (too short for a zip file); rebuild it");

  write("text.jar", std::string(100, 'x'));
  auto text = bj::read_zip_entry(m_dir / "text.jar", "META-INF/MANIFEST.MF");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().message,
            (m_dir / "text.jar").string() + ": not a jar (no zip directory found); rebuild it");

  write("empty.jar", make_zip({{"a.txt", "a"}}, true));
  auto missing = bj::read_zip_entry(m_dir / "empty.jar", "META-INF/MANIFEST.MF");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            (m_dir / "empty.jar").string() + ": no META-INF/MANIFEST.MF in the jar");

  auto absent = bj::read_zip_entry(m_dir / "absent.jar", "META-INF/MANIFEST.MF");
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().message,
            (m_dir / "absent.jar").string() + ": cannot open; check that the build wrote it");
}

TEST(BuildJarManifest, ParsesTheMainSectionWithContinuations) {
  auto attributes = bj::parse_jar_manifest(k_manifest_text);
  EXPECT_EQ(attributes["Implementation-Version"], "1.2.0");
  EXPECT_EQ(attributes["Build-Jdk-Spec"], "17");
  EXPECT_EQ(attributes["Main-Class"],
            "com.example.hello.VeryLongPackageNameThatWrapsAtSeventyTwoBytesInAManifestLine");
  EXPECT_EQ(attributes.count("Name"), 0u);  // per-entry sections are not the main one
}

TEST(BuildJarManifest, JavaVersionFromTheJarOrTheJdk) {
  EXPECT_EQ(bj::java_version_from_manifest({{"Build-Jdk-Spec", "17"}}), "17");
  EXPECT_EQ(bj::java_version_from_manifest({{"Build-Jdk", "17.0.9"}, {"Build-Jdk-Spec", "17"}}),
            "17.0.9");
  EXPECT_EQ(bj::java_version_from_manifest({{"Created-By", "17.0.9 (Debian)"}}), "17.0.9");
  EXPECT_EQ(bj::java_version_from_manifest({{"Created-By", "Maven JAR Plugin 3.3.0"}}), "");
  EXPECT_EQ(bj::parse_java_version_output("openjdk version \"17.0.9\" 2023-10-17\nOpenJDK "
                                          "Runtime Environment (build 17.0.9+9-Debian-1deb12u1)\n"),
            "17.0.9");
  EXPECT_EQ(bj::parse_java_version_output("bash: java: not found"), "");
}

TEST(BuildJarOutput, EscapesAndTrailingBlankLinesAreDropped) {
  EXPECT_EQ(bj::strip_terminal_escapes("\x1b[0m\x1b[1;31m[ERROR]\x1b[m x\x1b(B"), "[ERROR] x");
  EXPECT_EQ(bj::last_lines("a\r\nb\nc\n\x1b[0m\n\x1b[0m\x1b[0m\n", 2), "\n  | b\n  | c");
  EXPECT_EQ(bj::last_lines("only\n", 30), "\n  | only");
  EXPECT_EQ(bj::last_lines("", 30), "");
}

// --- build files -------------------------------------------------------

TEST(BuildJarProject, PomGivesArtifactIdAndVersionNotTheDependencies) {
  auto info = bj::parse_pom(R"(<?xml version="1.0" encoding="UTF-8"?>
<!-- <artifactId>commented-out</artifactId> -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>g</groupId><artifactId>parent-pom</artifactId><version>3.0.0</version></parent>
  <groupId>com.example</groupId>
  <artifactId>hello-service</artifactId>
  <version>1.4.0</version>
  <dependencies>
    <dependency><artifactId>junit</artifactId><version>4.13</version></dependency>
  </dependencies>
</project>)");
  EXPECT_EQ(info.name, "hello-service");
  EXPECT_EQ(info.version, "1.4.0");
}

TEST(BuildJarProject, PomVersionFallsBackToTheParentAndIgnoresProperties) {
  EXPECT_EQ(bj::parse_pom("<project><parent><version>2.0</version></parent>"
                          "<artifactId>a</artifactId></project>")
                .version,
            "2.0");
  EXPECT_EQ(bj::parse_pom("<project><artifactId>a</artifactId><version>${revision}</version>"
                          "</project>")
                .version,
            "");
}

TEST(BuildJarProject, GradleNameAndVersion) {
  auto info =
      bj::parse_gradle("rootProject.name = \"orders\"\n",
                       "plugins { id 'java' }\ngroup = 'com.example'\nversion = '1.2.0'\n", "");
  EXPECT_EQ(info.name, "orders");
  EXPECT_EQ(info.version, "1.2.0");
  EXPECT_EQ(bj::parse_gradle("", "", "org.gradle.jvmargs=-Xmx1g\nversion=2.1.0\n").version,
            "2.1.0");
}

TEST(BuildJarProject, AppNameFromJarFileName) {
  EXPECT_EQ(bj::app_name_from_jar("hello-service-1.0.0.jar"), "hello-service");
  EXPECT_EQ(bj::app_name_from_jar("app.jar"), "app");
  EXPECT_EQ(bj::app_name_from_jar("orders-api-2-SNAPSHOT.jar"), "orders-api");
}

// --- the version -------------------------------------------------------

bj::VersionFacts facts() {
  bj::VersionFacts f;
  f.project_version = "1.2.0";
  f.in_git = true;
  f.sha = "3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c";
  f.branch = "feature/login page";
  f.build_number = "42";
  f.now = std::chrono::system_clock::from_time_t(1795966200);  // 2026-11-29T15:30:00Z
  return f;
}

TEST(BuildJarVersion, DefaultTemplate) {
  EXPECT_EQ(*bj::expand_version(bj::k_default_release_template, facts(), "build.release_template"),
            "1.2.0-3f2a9c1");
}

TEST(BuildJarVersion, EveryPlaceholderAndSanitizing) {
  auto version = bj::expand_version("{project_version}+{branch}.{build}.{time}.{sha}", facts(),
                                    "build.release_template");
  ASSERT_TRUE(version.ok()) << version.error().message;
  EXPECT_EQ(*version,
            "1.2.0feature-login-page.42.20261129T153000Z.3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c");
  EXPECT_EQ(switchyard::compact_utc(facts().now), "20261129T153000Z");
  EXPECT_EQ(switchyard::rfc3339_utc(facts().now), "2026-11-29T15:30:00Z");
}

TEST(BuildJarVersion, DirtyTreeGetsSuffix) {
  auto f = facts();
  f.dirty = true;
  EXPECT_EQ(*bj::expand_version(bj::k_default_release_template, f, "x"), "1.2.0-3f2a9c1-dirty");
}

TEST(BuildJarVersion, OutsideGitTimeStandsInForTheSha) {
  auto f = facts();
  f.in_git = false;
  f.sha.clear();
  f.dirty = true;  // meaningless outside git
  f.build_number.clear();
  EXPECT_EQ(*bj::expand_version("{project_version}-{short_sha}-{build}", f, "x"),
            "1.2.0-20261129T153000Z-local");
}

TEST(BuildJarVersion, DifferentCommitsNeverShareAVersion) {
  auto a = facts();
  auto b = facts();
  b.sha = "9b1e0c2f3a4d5e6f708192a3b4c5d6e7f8091a2b";
  EXPECT_NE(*bj::expand_version(bj::k_default_release_template, a, "x"),
            *bj::expand_version(bj::k_default_release_template, b, "x"));
}

TEST(BuildJarVersion, TemplateErrorsNameTheOrigin) {
  auto plain = bj::expand_version("{project_version}-{branch}", facts(), "switchyard.yml:4");
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().code, ExitCode::Usage);
  EXPECT_EQ(plain.error().message,
            "switchyard.yml:4: version template \"{project_version}-{branch}\" has no {sha}, "
            "{short_sha} or {time}, so two builds could share a version; add one of them");
  auto unknown = bj::expand_version("{commit}", facts(), "--version");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "--version: unknown placeholder {commit} in version template; use {project_version}, "
            "{sha}, {short_sha}, {branch}, {build} or {time}");
  auto unclosed = bj::expand_version("{sha", facts(), "--version");
  ASSERT_FALSE(unclosed.ok());
  EXPECT_EQ(unclosed.error().message,
            "--version: unclosed '{' in version template \"{sha\"; write placeholders as "
            "{short_sha}");
  auto f = facts();
  f.project_version.clear();
  auto no_version = bj::expand_version(bj::k_default_release_template, f, "build.release_template");
  ASSERT_FALSE(no_version.ok());
  EXPECT_EQ(no_version.error().message,
            "build.release_template: {project_version} is unknown (no Implementation-Version in "
            "the jar's manifest and no version in the build file); set a version in the build, "
            "or a template without {project_version}");
}

TEST(BuildJarVersion, SanitizedLabelsCannotClimbDirectories) {
  EXPECT_EQ(bj::sanitize_label("../../etc"), "etc");
  EXPECT_EQ(bj::sanitize_label("release/1.0 rc"), "release-1.0-rc");
  EXPECT_EQ(bj::sanitize_label("ümlaut$x"), "mlautx");
  EXPECT_EQ(bj::sanitize_label("..."), "");
}

}  // namespace

namespace {

// --- flags and switchyard.yml ------------------------------------------------

// switchyard.yml at `file` with build-jar's command line `args` (its flags
// parsed by the step's own CLI::App, so the flag layer is the one it uses).
switchyard::Result<switchyard::Config> load_config(const fs::path& file,
                                                   std::vector<std::string> args = {}) {
  CLI::App app;
  switchyard::CommonOptions common;
  bj::add_flags(app, common);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  app.parse(args);
  switchyard::ConfigLoadOptions load;
  load.path = file;
  load.flags = common.config_flags;
  return switchyard::Config::load(load);
}

TEST_F(BuildJarFiles, OptionsComeFromTheFileAndFlagsWin) {
  write("switchyard.yml",
        "app: orders\n"
        "build:\n"
        "  tool: maven\n"
        "  command: [make, dist]\n"
        "  args: [-o, -Dmaven.repo.local=/usr/share/maven-repo]\n"
        "  jar: '*-boot.jar'\n"
        "  release_template: '{short_sha}-{build}'\n"
        "  project_dir: service\n");
  auto config = load_config(m_dir / "switchyard.yml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto options = bj::options_from_config(*config);
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->app, "orders");
  EXPECT_EQ(options->tool, bj::Tool::Maven);
  EXPECT_EQ(options->command, (std::vector<std::string>{"make", "dist"}));
  EXPECT_EQ(options->extra_args,
            (std::vector<std::string>{"-o", "-Dmaven.repo.local=/usr/share/maven-repo"}));
  EXPECT_EQ(options->jar_glob, "*-boot.jar");
  EXPECT_EQ(options->release_template, "{short_sha}-{build}");
  EXPECT_EQ(options->release_template_origin,
            (m_dir / "switchyard.yml").string() + ":7: build.release_template");
  EXPECT_EQ(options->project_dir, fs::path("service"));

  config = load_config(m_dir / "switchyard.yml", {"--tool", "gradle", "--release-template",
                                                  "{time}", "--jar", "app.jar", "--project=other"});
  ASSERT_TRUE(config.ok()) << config.error().message;
  options = bj::options_from_config(*config);
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->tool, bj::Tool::Gradle);
  EXPECT_EQ(options->release_template, "{time}");
  EXPECT_EQ(options->release_template_origin, "--release-template: build.release_template");
  EXPECT_EQ(options->jar_glob, "app.jar");
  EXPECT_EQ(options->project_dir, fs::path("other"));
}

// The flags' values are checked by the configuration, which names the flag.
TEST_F(BuildJarFiles, ABadToolFlagIsNamed) {
  auto config = load_config("", {"--tool", "ant"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, switchyard::ExitCode::Usage);
  EXPECT_EQ(config.error().message,
            "--tool: build.tool: 'ant' is not one of auto, maven, gradle, command");
}

// build.version was the template's name; a silently ignored template would
// change every label, so the old key is refused in the file and as a variable.
TEST_F(BuildJarFiles, TheOldTemplateKeyIsRefused) {
  write("switchyard.yml", "build:\n  version: '{short_sha}'\n");
  auto config = load_config(m_dir / "switchyard.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, switchyard::ExitCode::Usage);
  EXPECT_EQ(config.error().message,
            (m_dir / "switchyard.yml").string() +
                ":2: build.version: renamed to build.release_template; rename the key (see "
                "CHANGELOG.md)");
  write("switchyard.yml", "environments:\n  prod:\n    build:\n      version: '{sha}'\n");
  config = load_config(m_dir / "switchyard.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find(
                ":4: environments.prod.build.version: renamed to build.release_template"),
            std::string::npos)
      << config.error().message;

  write("empty.yml", "");
  switchyard::ConfigLoadOptions load;
  load.path = m_dir / "empty.yml";
  load.variables = {{"SWITCHYARD_BUILD__VERSION", "{short_sha}"}};
  config = switchyard::Config::load(load);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, switchyard::ExitCode::Usage);
  EXPECT_EQ(config.error().message,
            "SWITCHYARD_BUILD__VERSION: renamed to build.release_template; set "
            "SWITCHYARD_BUILD__RELEASE_TEMPLATE instead");
}

TEST_F(BuildJarFiles, DefaultsWithoutAFile) {
  // No file given and none in the working directory (the test's build
  // directory): the schema's defaults apply.
  switchyard::ConfigLoadOptions load;
  auto defaults = switchyard::Config::load(load);
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  auto options = bj::options_from_config(*defaults);
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->tool, bj::Tool::Auto);
  EXPECT_EQ(options->release_template, bj::k_default_release_template);
  EXPECT_TRUE(options->command.empty());
  EXPECT_EQ(options->project_dir, fs::path("."));
}

// --- the build's output under GitHub Actions ------------------------------

// What build_jar::build prints on file descriptor 2, as lines, with the GitHub
// adapter installed; the plain adapter is put back afterwards.
std::vector<std::string> github_stderr_lines(const bj::Options& options,
                                             switchyard::Result<void>& outcome) {
  switchyard::set_ci(
      switchyard::make_ci(switchyard::CiKind::GitHubActions, {{"GITHUB_ACTIONS", "true"}}));
  // Whatever the environment running the tests asks for, no debug lines.
  switchyard::log::set_level(switchyard::log::Level::Info);
  char path[] = "/tmp/switchyard-build-jar-err-XXXXXX";
  int fd = ::mkstemp(path);
  std::fflush(stderr);
  int saved = ::dup(STDERR_FILENO);
  ::dup2(fd, STDERR_FILENO);
  ::close(fd);
  boost::json::object result;
  outcome = bj::build(options, result);
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  switchyard::set_ci(switchyard::make_ci(switchyard::CiKind::Plain, {}));
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  ::unlink(path);
  return lines;
}

// A failing build whose output holds workflow commands: GitHub must see them
// between stop-commands and the resume, inside the build's group, and the
// resume must come although the build failed.
TEST_F(BuildJarFiles, GitHubSeesAFailingBuildsOutputWithCommandsStopped) {
  write("build.sh",
        "echo '::set-output name=x::y'\n"
        "echo '::add-mask::z'\n"
        "exit 3\n");
  bj::Options options;
  options.project_dir = m_dir;
  options.tool = bj::Tool::Command;
  options.command = {"sh", "build.sh"};
  switchyard::Result<void> outcome;
  auto lines = github_stderr_lines(options, outcome);
  ASSERT_EQ(lines.size(), 7u) << testing::PrintToString(lines);
  const std::string token = lines[2].substr(std::string("::stop-commands::").size());
  EXPECT_EQ(token.size(), 32u) << lines[2];
  EXPECT_EQ(lines,
            (std::vector<std::string>{"build-jar: command build (build.command): sh build.sh",
                                      "::group::build: sh build.sh", "::stop-commands::" + token,
                                      "::set-output name=x::y", "::add-mask::z",
                                      "::" + token + "::", "::endgroup::"}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, ExitCode::Failure);
  EXPECT_EQ(outcome.error().message, "build-jar: sh build.sh exited with status 3 in " +
                                         m_dir.string() +
                                         "; fix the build (its last lines follow)\n"
                                         "  | ::set-output name=x::y\n"
                                         "  | ::add-mask::z");

  // A second build stops commands with a token of its own.
  auto again = github_stderr_lines(options, outcome);
  ASSERT_EQ(again.size(), 7u) << testing::PrintToString(again);
  EXPECT_TRUE(again[2].starts_with("::stop-commands::")) << again[2];
  EXPECT_NE(again[2], lines[2]);
  EXPECT_EQ(again[5], "::" + again[2].substr(std::string("::stop-commands::").size()) + "::");
}

}  // namespace
