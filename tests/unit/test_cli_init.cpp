// `switchyard init`: what it detects in a project, and that it never
// overwrites a file it was not told to.
#include "runner/cli/init.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/core_testing.hpp"

namespace switchyard {
namespace {

using ::testing::HasSubstr;

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(InitTest, ReadsAMavenProject) {
  core_testing::TempDir project;
  write(project.path() / "pom.xml",
        "<project><parent><artifactId>spring-boot-starter-parent</artifactId></parent>"
        "<artifactId>orders</artifactId><properties><java.version>21</java.version></properties>"
        "<dependencies><dependency><artifactId>web</artifactId></dependency></dependencies>"
        "</project>");
  auto facts = detect_project(project.path());
  EXPECT_EQ(facts.app, "orders");
  EXPECT_EQ(facts.build_tool, "maven");
  EXPECT_EQ(facts.java_version, "21");
  EXPECT_EQ(facts.prod_branch, "main");  // not a repository: the default
  EXPECT_EQ(facts.dev_branch, "");
}

TEST(InitTest, ReadsAGradleProject) {
  core_testing::TempDir project;
  write(project.path() / "settings.gradle.kts", "rootProject.name = \"billing api\"\n");
  write(project.path() / "build.gradle.kts",
        "java { toolchain { languageVersion.set(JavaLanguageVersion.of(17)) } }\n");
  auto facts = detect_project(project.path());
  EXPECT_EQ(facts.app, "billing-api");  // made a name switchyard accepts
  EXPECT_EQ(facts.build_tool, "gradle");
  EXPECT_EQ(facts.java_version, "17");
}

TEST(InitTest, WritesEveryFileForBothCiSystemsAndTheEnvironmentsOfTheBranches) {
  ProjectFacts facts{"orders", "maven", "21", "master", "develop"};
  auto files = starter_files(facts, "both", "acme/switchyard@v1.2.3");
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0].path, "switchyard.yml");
  EXPECT_THAT(files[0].text, HasSubstr("branches: [develop]"));
  EXPECT_THAT(files[0].text, HasSubstr("branches: [master]"));
  EXPECT_EQ(files[1].path, ".github/workflows/deploy.yml");
  EXPECT_THAT(files[1].text,
              HasSubstr("uses: acme/switchyard/.github/workflows/deploy.yml@v1.2.3"));
  EXPECT_THAT(files[1].text, HasSubstr("java-version: \"21\""));
  EXPECT_EQ(files[2].path, "Jenkinsfile");
  EXPECT_EQ(files[3].path, "deploy/nginx/orders.conf");
  EXPECT_THAT(files[3].text, HasSubstr("upstream orders_8081"));
  EXPECT_EQ(starter_files(facts, "jenkins", "a/switchyard@v1").size(), 3u);
}

TEST(InitTest, RefusesToOverwriteAndWritesNothingThen) {
  core_testing::TempDir project;
  write(project.path() / "Jenkinsfile", "// mine\n");
  ProjectFacts facts{"orders", "maven", "17", "main", ""};
  auto files = starter_files(facts, "both", "a/switchyard@v1");
  auto refused = write_starter_files(project.path(), files, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ExitCode::Usage);
  EXPECT_THAT(refused.error().message,
              HasSubstr("Jenkinsfile: exists already; switchyard init changed nothing; rerun with "
                        "--force"));
  EXPECT_FALSE(std::filesystem::exists(project.path() / "switchyard.yml"));
  ASSERT_TRUE(write_starter_files(project.path(), files, true));
  EXPECT_TRUE(std::filesystem::exists(project.path() / "switchyard.yml"));
  std::ifstream in(project.path() / "Jenkinsfile");
  std::string first;
  std::getline(in, first);
  EXPECT_THAT(first, HasSubstr("switchyard init"));
}

}  // namespace
}  // namespace switchyard
