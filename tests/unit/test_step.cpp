#include "runner/cli/step.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "tests/support/core_testing.hpp"

using namespace switchyard;

namespace step_test {

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a small step through run_step with `arguments`, capturing fd 1 and 2.
Run run(std::vector<std::string> arguments, const StepBody& body,
        const std::string& name = "test-step") {
  set_ci(make_ci(CiKind::Plain, {}));
  CLI::App app("a test step", "switchyard-test-step");
  CommonOptions options;
  add_common_options(app, options, true);
  std::string target;
  app.add_option("--target", target, "where to go");
  arguments.insert(arguments.begin(), "switchyard-test-step");
  std::vector<char*> argv;
  for (auto& argument : arguments)
    argv.push_back(argument.data());

  Run result;
  core_testing::FdCapture out(STDOUT_FILENO);
  core_testing::FdCapture err(STDERR_FILENO);
  result.exit_code = run_step(name, app, options, static_cast<int>(argv.size()), argv.data(), body);
  result.out = out.text();
  result.err = err.text();
  return result;
}

}  // namespace step_test

using namespace step_test;

TEST(RunStep, ABadFlagExits2NamingTheFlag) {
  bool ran = false;
  auto result = run({"--no-such-flag"}, [&](StepContext&) -> Result<void> {
    ran = true;
    return {};
  });
  EXPECT_FALSE(ran);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("--no-such-flag"), std::string::npos) << result.err;
  EXPECT_TRUE(result.err.starts_with("error: switchyard-test-step: ")) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

// A CI wrapper that asked for --json gets the usage error as a result object,
// not only an exit code.
TEST(RunStep, ABadFlagWithJsonPrintsTheErrorAsAResult) {
  auto result = run({"--json", "--no-such-flag"}, [](StepContext&) -> Result<void> { return {}; });
  EXPECT_EQ(result.exit_code, 2);
  auto parsed = boost::json::parse(result.out).as_object();
  EXPECT_EQ(parsed.at("ok").as_bool(), false);
  EXPECT_EQ(parsed.at("exit_code").as_int64(), 2);
  EXPECT_NE(std::string(parsed.at("error").as_string()).find("--no-such-flag"), std::string::npos);
}

TEST(RunStep, AnErrorExitsWithItsCodeAndOneLine) {
  auto result = run({"--target", "x"}, [](StepContext&) -> Result<void> {
    return unavailable("mvn: not found in PATH; install it or fix PATH");
  });
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "error: mvn: not found in PATH; install it or fix PATH\n");
}

TEST(RunStep, AnExceptionIsAFailureWithOneLine) {
  auto result = run({}, [](StepContext&) -> Result<void> { throw std::runtime_error("boom"); });
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            "error: switchyard-test-step: unexpected error: boom; please report it with the log "
            "above\n");
}

TEST(RunStep, JsonPrintsOneObjectOnStdout) {
  add_secret("step-secret-value");
  auto result = run({"--json", "--target", "prod"}, [](StepContext& context) -> Result<void> {
    log::info("working");
    context.result["version"] = "1.2.3";
    context.result["token"] = "step-secret-value";
    return {};
  });
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.err, "working\n");
  ASSERT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 1) << result.out;
  auto object = boost::json::parse(result.out).as_object();
  EXPECT_EQ(object.at("ok"), true);
  EXPECT_EQ(object.at("version"), "1.2.3");
  EXPECT_EQ(object.at("token"), "***");

  auto failed = run({"--json"}, [](StepContext&) -> Result<void> {
    return usage_error("--target: required; pass --target NAME");
  });
  EXPECT_EQ(failed.exit_code, 2);
  auto error = boost::json::parse(failed.out).as_object();
  EXPECT_EQ(error.at("ok"), false);
  EXPECT_EQ(error.at("exit_code"), 2);
  EXPECT_EQ(error.at("error"), "--target: required; pass --target NAME");
}

TEST(RunStep, HelpListsTheExitCodes) {
  auto result = run({"--help"}, [](StepContext&) -> Result<void> { return {}; });
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("4    another deploy holds the lock"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("--dry-run"), std::string::npos);
}

// The runner's own subcommands name themselves as a user types them.
TEST(RunStep, ASubcommandNamesItselfAsTyped) {
  auto result = run(
      {"--no-such-flag"}, [](StepContext&) -> Result<void> { return {}; }, "switchyard status");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(result.err.starts_with("error: switchyard status: ")) << result.err;
}
