// `switchyard run`'s pipeline logic with a launcher of the test's own: which
// steps run, what each is given, where it stops, and when it rolls back.
#include "runner/cli/pipeline.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

#include "tests/support/core_testing.hpp"

namespace switchyard::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Answers each launch with the next scripted record and remembers the calls.
class ScriptedLauncher : public StepLauncher {
 public:
  struct Call {
    std::string step;
    std::vector<std::string> arguments;
  };
  std::deque<StepRecord> answers;
  std::vector<Call> calls;

  StepRecord launch(const std::string& step, const std::vector<std::string>& arguments) override {
    calls.push_back({step, arguments});
    if (answers.empty()) {
      ADD_FAILURE() << "unexpected launch of " << step;
      return {};
    }
    auto record = answers.front();
    answers.pop_front();
    record.name = step;
    return record;
  }
};

StepRecord succeeded(boost::json::object result) {
  StepRecord record;
  record.result = std::move(result);
  return record;
}

StepRecord failed(int exit_code) {
  StepRecord record;
  record.exit_code = exit_code;
  return record;
}

boost::json::object built() {
  return {
      {"jar", "target/hello-1.0.0.jar"}, {"version", "1.0.0-abc1234"}, {"app_version", "1.0.0"}};
}
boost::json::object pushed() {
  return {{"artifact_uri", "file:///store/hello/1.0.0-abc1234/hello-1.0.0.jar"},
          {"sha256", std::string(64, 'a')},
          {"version", "1.0.0-abc1234"}};
}
boost::json::object deployed(std::string_view previous_app_version) {
  return {{"hosts", boost::json::array{{{"host", "web1"},
                                        {"before", "0.9.0-def5678"},
                                        {"after", "1.0.0-abc1234"},
                                        {"previous_app_version", previous_app_version}}}}};
}

RunRequest whole_run() {
  RunRequest request;
  request.common = {"ci/switchyard.yml", "prod"};
  request.steps = *select_steps("", "");
  request.verify_url = "https://example.org/actuator/health";
  return request;
}

TEST(PipelineTest, SelectsAllOnlyOrFrom) {
  EXPECT_THAT(*select_steps("", ""),
              ElementsAre("build-jar", "push-artifact", "request-deploy", "verify-health"));
  EXPECT_THAT(*select_steps("verify-health,build-jar", ""),
              ElementsAre("build-jar", "verify-health"));
  EXPECT_THAT(*select_steps("", "request-deploy"), ElementsAre("request-deploy", "verify-health"));
  auto unknown = select_steps("deploy", "");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ExitCode::Usage);
  EXPECT_THAT(unknown.error().message,
              HasSubstr("deploy: not a pipeline step; the steps are build-jar"));
  EXPECT_FALSE(select_steps("build-jar", "push-artifact"));
}

TEST(PipelineTest, HandsEachStepTheOutputsOfTheOnesBefore) {
  ScriptedLauncher launcher;
  launcher.answers = {succeeded(built()), succeeded(pushed()), succeeded(deployed("0.9.0")),
                      succeeded({{"healthy", true}})};
  auto report = run_pipeline(whole_run(), launcher);
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_TRUE(report.failed_step.empty());
  ASSERT_EQ(launcher.calls.size(), 4u);
  const std::vector<std::string> common{"--config", "ci/switchyard.yml", "--env", "prod", "--json"};
  auto with = [&](std::vector<std::string> arguments) {
    arguments.insert(arguments.end(), common.begin(), common.end());
    return arguments;
  };
  EXPECT_EQ(launcher.calls[0].arguments, with({}));
  EXPECT_EQ(launcher.calls[1].arguments, with({"target/hello-1.0.0.jar"}));
  EXPECT_EQ(launcher.calls[2].arguments,
            with({"--artifact=file:///store/hello/1.0.0-abc1234/hello-1.0.0.jar",
                  "--sha256=" + std::string(64, 'a'), "--release=1.0.0-abc1234"}));
  EXPECT_EQ(launcher.calls[3].arguments,
            with({"https://example.org/actuator/health", "--expect-version=1.0.0"}));
}

TEST(PipelineTest, ChecksHealthOnlyWhenTheHostsRanThatAppVersionBefore) {
  ScriptedLauncher launcher;
  launcher.answers = {succeeded(built()), succeeded(pushed()), succeeded(deployed("1.0.0")),
                      succeeded({{"healthy", true}})};
  auto report = run_pipeline(whole_run(), launcher);
  EXPECT_EQ(report.exit_code, 0);
  ASSERT_EQ(launcher.calls.size(), 4u);
  EXPECT_THAT(launcher.calls[3].arguments,
              ::testing::Not(::testing::Contains(HasSubstr("--expect-version"))));
}

TEST(PipelineTest, AFailedStepStopsTheRunWithItsExitCode) {
  ScriptedLauncher launcher;
  launcher.answers = {succeeded(built()), succeeded(pushed()), failed(3)};
  auto report = run_pipeline(whole_run(), launcher);
  EXPECT_EQ(report.exit_code, 3);
  EXPECT_EQ(report.failed_step, "request-deploy");
  EXPECT_EQ(launcher.calls.size(), 3u);  // verify-health never ran, nothing rolled back
  EXPECT_FALSE(report.rolled_back);
}

TEST(PipelineTest, AFailedVerifyRollsTheDeployBackUnlessTold) {
  ScriptedLauncher launcher;
  launcher.answers = {succeeded(built()), succeeded(pushed()), succeeded(deployed("0.9.0")),
                      failed(1), succeeded({})};
  auto report = run_pipeline(whole_run(), launcher);
  EXPECT_EQ(report.exit_code, 1);
  EXPECT_EQ(report.failed_step, "verify-health");
  EXPECT_TRUE(report.rolled_back);
  ASSERT_EQ(launcher.calls.size(), 5u);
  EXPECT_EQ(launcher.calls[4].step, "request-deploy");
  EXPECT_EQ(launcher.calls[4].arguments.front(), "--rollback");

  ScriptedLauncher kept;
  kept.answers = {succeeded(built()), succeeded(pushed()), succeeded(deployed("0.9.0")), failed(1)};
  auto request = whole_run();
  request.rollback_on_failed_verify = false;
  auto no_rollback = run_pipeline(request, kept);
  EXPECT_EQ(no_rollback.exit_code, 1);
  EXPECT_FALSE(no_rollback.rolled_back);
  EXPECT_EQ(kept.calls.size(), 4u);
}

TEST(PipelineTest, ResumingWithoutTheEarlierOutputsSaysWhatToRunFirst) {
  ScriptedLauncher launcher;
  auto request = whole_run();
  request.steps = *select_steps("", "request-deploy");
  auto report = run_pipeline(request, launcher);
  EXPECT_EQ(report.exit_code, 2);
  EXPECT_EQ(report.failed_step, "request-deploy");
  EXPECT_TRUE(launcher.calls.empty());
  ASSERT_EQ(report.steps.size(), 1u);
  EXPECT_THAT(report.steps[0].note,
              HasSubstr("request-deploy: needs push-artifact's 'artifact_uri' output"));
}

TEST(PipelineTest, TheRunFileCarriesOutputsToAResumedRun) {
  core_testing::TempDir directory;
  auto path = directory.path() / ".switchyard" / "run.json";
  ASSERT_TRUE(write_run_file(path, "prod", {{"build-jar", built()}, {"push-artifact", pushed()}}));
  auto outputs = read_run_file(path, "prod");
  ASSERT_TRUE(outputs) << outputs.error().message;

  ScriptedLauncher launcher;
  launcher.answers = {succeeded(deployed("0.9.0")), succeeded({})};
  auto request = whole_run();
  request.steps = *select_steps("", "request-deploy");
  request.earlier = *outputs;
  auto report = run_pipeline(request, launcher);
  EXPECT_EQ(report.exit_code, 0);
  ASSERT_EQ(launcher.calls.size(), 2u);
  EXPECT_EQ(launcher.calls[0].arguments[2], "--release=1.0.0-abc1234");

  auto other = read_run_file(path, "dev");
  ASSERT_FALSE(other);
  EXPECT_THAT(other.error().message, HasSubstr("recorded a run for environment 'prod', not 'dev'"));
}

TEST(PipelineTest, AMissingVerifyUrlSkipsVerifyAndSaysSo) {
  ScriptedLauncher launcher;
  launcher.answers = {succeeded(built()), succeeded(pushed()), succeeded(deployed("0.9.0"))};
  auto request = whole_run();
  request.verify_url.clear();
  auto report = run_pipeline(request, launcher);
  EXPECT_EQ(report.exit_code, 0);
  ASSERT_EQ(report.steps.size(), 4u);
  EXPECT_TRUE(report.steps[3].skipped);
  EXPECT_THAT(summary_text(report, "prod"), HasSubstr("verify.url is not set"));
}

TEST(PipelineTest, TheSummaryNamesReleaseHostsAndTheFailedStep) {
  ScriptedLauncher launcher;
  launcher.answers = {succeeded(built()), succeeded(pushed()), succeeded(deployed("0.9.0")),
                      failed(1), succeeded({})};
  auto report = run_pipeline(whole_run(), launcher);
  auto markdown = summary_markdown(report, "prod");
  EXPECT_THAT(markdown, HasSubstr("failed at verify-health (exit 1); rolled back"));
  EXPECT_THAT(markdown, HasSubstr("| release | `1.0.0-abc1234` |"));
  EXPECT_THAT(markdown, HasSubstr("| host | web1: 1.0.0-abc1234 (was 0.9.0-def5678) |"));
  EXPECT_THAT(markdown, HasSubstr("| request-deploy --rollback | ok |"));
}

TEST(PipelineTest, CommandsAreShownAsAPersonWouldTypeThem) {
  EXPECT_EQ(display_command({"switchyard-verify-health", "https://x.org/health?a=1&b=2", "it's"}),
            "switchyard-verify-health 'https://x.org/health?a=1&b=2' 'it'\\''s'");
  EXPECT_EQ(display_command({"--release=1.0.0-abc", ""}), "--release=1.0.0-abc ''");
}

}  // namespace
}  // namespace switchyard::pipeline
