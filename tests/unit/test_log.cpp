#include "runner/core/log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "runner/core/ci.hpp"
#include "runner/core/secrets.hpp"
#include "tests/support/core_testing.hpp"

using namespace switchyard;

namespace log_test {

// What log lines reach file descriptor 2 while `body` runs.
template <typename Body>
std::string stderr_of(Body body) {
  core_testing::FdCapture capture(STDERR_FILENO);
  body();
  return capture.text();
}

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { set_ci(make_ci(CiKind::Plain, {})); }
  void TearDown() override { log::set_level(log::Level::Info); }
};

}  // namespace log_test

using namespace log_test;

TEST_F(LogTest, FormatsAndPrefixesByLevel) {
  EXPECT_EQ(stderr_of([] {
              log::info("deployed {} to port {}", "1.2.3", 8082);
              log::warn("{} is slow", "disk");
              log::error("nginx: {}", "config test failed");
              log::debug("not shown at the default level");
            }),
            "deployed 1.2.3 to port 8082\n"
            "warning: disk is slow\n"
            "error: nginx: config test failed\n");
}

TEST_F(LogTest, LevelsFilter) {
  log::set_level(log::Level::Debug);
  EXPECT_EQ(stderr_of([] { log::debug("probe {}", 1); }), "debug: probe 1\n");
  log::set_level(log::Level::Error);
  EXPECT_EQ(stderr_of([] {
              log::info("hidden");
              log::warn("hidden");
              log::error("shown");
            }),
            "error: shown\n");
}

TEST_F(LogTest, MasksRegisteredSecretsLongestFirst) {
  add_secret("tok-abc");
  add_secret("tok-abc-extended");
  EXPECT_EQ(mask_secrets("a tok-abc-extended b tok-abc c tok-abctok-abc"), "a *** b *** c ******");
  EXPECT_EQ(stderr_of([] { log::info("key=tok-abc-extended"); }), "key=***\n");
}

TEST_F(LogTest, ShortValuesAreNotSecrets) {
  add_secret("abc");  // would mask every "abc" in every word
  add_secret("");
  EXPECT_EQ(mask_secrets("abc abcdef"), "abc abcdef");
}

TEST(LogLevel, DefaultsToInfo) {
  EXPECT_EQ(log::level_from_environment({}), log::Level::Info);
  EXPECT_EQ(log::level_from_environment({{"SWITCHYARD_LOG", "debug"}}), log::Level::Debug);
}

TEST(LogLevel, GitHubDebugRerunLowersItToDebug) {
  EXPECT_EQ(log::level_from_environment({{"GITHUB_ACTIONS", "true"}, {"RUNNER_DEBUG", "1"}}),
            log::Level::Debug);
  EXPECT_EQ(log::level_from_environment({{"GITHUB_ACTIONS", "true"}, {"RUNNER_DEBUG", "0"}}),
            log::Level::Info);
  EXPECT_EQ(log::level_from_environment({{"GITHUB_ACTIONS", "true"}}), log::Level::Info);
}

TEST(LogLevel, RunnerDebugCountsOnlyUnderGitHub) {
  EXPECT_EQ(log::level_from_environment({{"RUNNER_DEBUG", "1"}}), log::Level::Info);
  EXPECT_EQ(log::level_from_environment(
                {{"RUNNER_DEBUG", "1"}, {"GITHUB_ACTIONS", "false"}, {"JENKINS_URL", "http://j/"}}),
            log::Level::Info);
}

TEST(LogLevel, AnExplicitSwitchyardLogWins) {
  EXPECT_EQ(log::level_from_environment(
                {{"GITHUB_ACTIONS", "true"}, {"RUNNER_DEBUG", "1"}, {"SWITCHYARD_LOG", "info"}}),
            log::Level::Info);
  EXPECT_EQ(log::level_from_environment(
                {{"GITHUB_ACTIONS", "true"}, {"RUNNER_DEBUG", "1"}, {"SWITCHYARD_LOG", ""}}),
            log::Level::Debug);
  EXPECT_EQ(log::level_from_environment(
                {{"GITHUB_ACTIONS", "true"}, {"RUNNER_DEBUG", "0"}, {"SWITCHYARD_LOG", "debug"}}),
            log::Level::Debug);
}

namespace switchyard {
namespace {

// User-info in a URL is a credential wherever the URL is printed: a log line,
// an error, a JSON result, a CI output.
TEST(MaskUrlUserinfo, HidesUserAndPasswordOfEveryUrl) {
  EXPECT_EQ(mask_secrets("http://user:pw@host/"), "http://***@host/");
  EXPECT_EQ(mask_secrets("probe https://u:p,w;x@example.test:8443/health?x=a@b then "
                         "s3://AKIA:secret@bucket"),
            "probe https://***@example.test:8443/health?x=a@b then s3://***@bucket");
  EXPECT_EQ(mask_secrets(R"({"url":"http://only-user@h/x"})"), R"({"url":"http://***@h/x"})");
  EXPECT_EQ(mask_secrets("http://***@host/ http://host/a@b mail me@example.test"),
            "http://***@host/ http://host/a@b mail me@example.test");
  EXPECT_EQ(mask_secrets("http://h:1/ and ftp://a@b"), "http://h:1/ and ftp://***@b");
  EXPECT_EQ(mask_secrets("://@"), "://***@");
  EXPECT_EQ(mask_url_userinfo("no url here"), "no url here");
}

}  // namespace
}  // namespace switchyard
