#include "runner/cli/step.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
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

// --version alone prints the program's version; with anything else it is the
// old release-label flag, refused before the step runs (a workflow still
// written with `--version LABEL` must not exit 0 without deploying).
TEST(RunStep, VersionGoesAlone) {
  bool ran = false;
  auto body = [&](StepContext&) -> Result<void> {
    ran = true;
    return {};
  };
  auto alone = run({"--version"}, body);
  EXPECT_EQ(alone.exit_code, 0);
  EXPECT_EQ(alone.out, std::string("switchyard-test-step ") + SWITCHYARD_VERSION + "\n");
  for (std::vector<std::string> args : {std::vector<std::string>{"--version", "1.2.3"},
                                        {"--target", "x", "--version"},
                                        {"--version=1.2.3"},
                                        {"--json", "--version"}}) {
    auto refused = run(args, body);
    EXPECT_EQ(refused.exit_code, 2) << args.front();
    EXPECT_NE(refused.err.find("error: " + version_not_alone_message("switchyard-test-step")),
              std::string::npos)
        << refused.err;
  }
  EXPECT_FALSE(ran);
}

// An empty value, given apart or after '=', is refused naming the flag; after
// '=' the next argument must not be taken as the value instead.
TEST(RunStep, AFlagRefusesAnEmptyValue) {
  bool ran = false;
  auto body = [&](StepContext&) -> Result<void> {
    ran = true;
    return {};
  };
  const std::string message =
      "switchyard-test-step: --target: empty value; give it a value or leave the flag out";
  for (std::vector<std::string> args : {std::vector<std::string>{"--target", ""},
                                        {"--target", "  "},
                                        {"--target="},
                                        {"--target=", "--dry-run"}}) {
    auto refused = run(args, body);
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_EQ(refused.err, "error: " + message + "\n");
  }
  auto json = run({"--target=", "--json"}, body);
  EXPECT_EQ(json.exit_code, 2);
  EXPECT_EQ(boost::json::parse(json.out).as_object().at("error").as_string(), message);
  auto bare = run({"--target"}, body);
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_NE(bare.err.find("--target"), std::string::npos) << bare.err;
  // A flag after it is not its value (an unquoted empty variable in a script).
  auto shifted = run({"--target", "--config", "switchyard.yml"}, body);
  EXPECT_EQ(shifted.exit_code, 2);
  EXPECT_EQ(shifted.err,
            "error: switchyard-test-step: --target: no value (the next argument is the flag "
            "--config); give it a value or leave the flag out\n");
  EXPECT_EQ(run({"--target", "--dry-run=true"}, body).exit_code, 2);
  auto config = run({"--config", ""}, body);
  EXPECT_EQ(config.exit_code, 2);
  EXPECT_NE(config.err.find("--config: empty value"), std::string::npos) << config.err;
  EXPECT_FALSE(ran);
}

// A flag added with add_config_flag reaches the configuration's flag layer,
// above a variable, and messages name it as the step spells it.
TEST(RunStep, AConfigFlagGoesThroughTheFlagLayer) {
  core_testing::TempDir dir;
  std::ofstream(dir.path() / "switchyard.yml") << "target:\n  drain_timeout: 5s\n";
  auto run_with = [&](std::vector<std::string> arguments, std::string& drain, std::string& origin,
                      std::vector<std::string>& checks) {
    CLI::App app("a test step", "switchyard-test-step");
    CommonOptions options;
    add_common_options(app, options, false);
    add_config_flag(app, options, "--drain", "target.drain_timeout", "drain");
    add_config_flag(app, options, "--expect-json", "health.expect_json", "checks");
    arguments.insert(arguments.begin(), {"switchyard-test-step", "--config",
                                         (dir.path() / "switchyard.yml").string()});
    std::vector<char*> argv;
    for (auto& argument : arguments)
      argv.push_back(argument.data());
    core_testing::FdCapture err(STDERR_FILENO);
    return run_step("test-step", app, options, static_cast<int>(argv.size()), argv.data(),
                    [&](StepContext& context) -> Result<void> {
                      auto config = context.load_config();
                      if (!config) return config.error();
                      drain = *config->find("target.drain_timeout");
                      origin = config->origin("target.drain_timeout");
                      checks = *config->string_list("health.expect_json");
                      return {};
                    });
  };
  std::string drain;
  std::string origin;
  std::vector<std::string> checks;
  ASSERT_EQ(run_with({}, drain, origin, checks), 0);
  EXPECT_EQ(drain, "5s");
  ASSERT_EQ(run_with({"--drain", "45s", "--expect-json", "a=1,2", "--expect-json=b=2"}, drain,
                     origin, checks),
            0);
  EXPECT_EQ(drain, "45s");
  EXPECT_EQ(origin, "--drain");
  EXPECT_EQ(checks, (std::vector<std::string>{"a=1,2", "b=2"}));
  EXPECT_EQ(run_with({"--drain", "soon"}, drain, origin, checks), 2);
}

// A Boolean key's switch sets it true; named --no-..., it sets it false, over
// whatever the file says.
TEST(RunStep, ANoSwitchSetsItsBooleanKeyFalse) {
  core_testing::TempDir dir;
  std::ofstream(dir.path() / "switchyard.yml") << "deploy:\n  rollback_on_failure: true\n";
  auto rollback_on_failure = [&](std::vector<std::string> arguments) {
    CLI::App app("a test step", "switchyard-test-step");
    CommonOptions options;
    add_common_options(app, options, false);
    add_config_flag(app, options, "--no-rollback-on-failure", "deploy.rollback_on_failure",
                    "leave them");
    arguments.insert(arguments.begin(), {"switchyard-test-step", "--config",
                                         (dir.path() / "switchyard.yml").string()});
    std::vector<char*> argv;
    for (auto& argument : arguments)
      argv.push_back(argument.data());
    std::optional<bool> value;
    core_testing::FdCapture err(STDERR_FILENO);
    run_step("test-step", app, options, static_cast<int>(argv.size()), argv.data(),
             [&](StepContext& context) -> Result<void> {
               auto config = context.load_config();
               if (!config) return config.error();
               auto read = config->boolean("deploy.rollback_on_failure");
               if (!read) return read.error();
               value = *read;
               return {};
             });
    return value;
  };
  EXPECT_EQ(rollback_on_failure({}), std::optional<bool>(true));
  EXPECT_EQ(rollback_on_failure({"--no-rollback-on-failure"}), std::optional<bool>(false));
}
