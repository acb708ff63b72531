// `switchyard run`: the whole pipeline from one switchyard.yml, the same on
// GitHub, Jenkins and a laptop. It runs the step executables themselves,
// build-jar -> push-artifact -> request-deploy -> verify-health, hands each
// step's --json outputs to the next, and records them in a run file so a
// failed run can be resumed (--from) or a part rerun (--only).
#pragma once

#include <boost/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runner/util/result.hpp"

namespace switchyard::pipeline {

// The pipeline's steps, in order.
const std::vector<std::string>& step_names();

// The steps a run executes: all of them, those in `only` (comma-separated,
// kept in pipeline order), or `from` and the ones after it. Unknown names and
// both options at once are usage errors (exit 2).
Result<std::vector<std::string>> select_steps(std::string_view only, std::string_view from);

// What the steps share: how each is told where its configuration is.
struct CommonArguments {
  std::string config_path;  // --config (empty: the step's default)
  std::string environment;  // --env (the one the run chose)
};

// What one step reported: its --json result object, and how it ended.
struct StepRecord {
  std::string name;
  std::vector<std::string> command;  // as run, "switchyard-build-jar" first
  int exit_code = 0;
  double seconds = 0;
  boost::json::object result;
  bool skipped = false;  // not run: its outputs came from an earlier run, or it had nothing to do
  std::string note;      // why it was skipped, or what it did differently
};

// The outputs of earlier steps, by step name (this run's, else the run file's).
using StepOutputs = std::map<std::string, boost::json::object>;

// The arguments of `step` after the common ones, from the outputs of the
// steps before it. A missing output is a usage error naming the step that
// makes it (exit 2), so `--from` without an earlier run says what to do.
// `verify_url` is verify.url; `expect_version` the app_version to expect
// there ("" checks health only).
Result<std::vector<std::string>> step_arguments(std::string_view step, const StepOutputs& outputs,
                                                const std::string& verify_url,
                                                const std::string& expect_version);

// The app_version verify-health expects after the deploy: the new build's,
// or "" (health only) when every host already ran that app_version before
// (request-deploy's `hosts[].previous_app_version`), since a version check
// could not tell the old release from the new one then.
std::string version_to_expect(const StepOutputs& outputs);

// Runs one step executable; the real one starts `switchyard-<step>`, tests
// give their own.
class StepLauncher {
 public:
  virtual ~StepLauncher() = default;
  virtual StepRecord launch(const std::string& step, const std::vector<std::string>& arguments) = 0;
};

// The launcher that runs `switchyard-<step>` (beside this executable, else in
// PATH) with `--json`, relays its log lines as they come and parses the one
// result object it prints. Its CI outputs go to a file of its own: the run
// publishes the pipeline's outputs once, at the end.
class ProcessStepLauncher : public StepLauncher {
 public:
  explicit ProcessStepLauncher(std::filesystem::path self_dir) : m_self_dir(std::move(self_dir)) {}
  StepRecord launch(const std::string& step, const std::vector<std::string>& arguments) override;

 private:
  std::filesystem::path m_self_dir;
};

struct RunRequest {
  CommonArguments common;
  std::vector<std::string> steps;  // from select_steps
  StepOutputs earlier;             // the run file's outputs, for steps not run now
  std::string verify_url;          // verify.url
  bool rollback_on_failed_verify = true;
  std::filesystem::path run_file;  // written after each step that succeeds; empty: none
};

struct RunReport {
  std::vector<StepRecord> steps;
  StepOutputs outputs;
  bool rolled_back = false;
  int exit_code = 0;
  std::string failed_step;  // empty when every step succeeded
};

// Runs the selected steps in order; the first that fails stops the run with
// its exit code. A failed verify-health rolls the deploy back (request-deploy
// --rollback) unless the request says not to.
RunReport run_pipeline(const RunRequest& request, StepLauncher& launcher);

// The run file (`.switchyard/run.json` beside switchyard.yml): the
// environment and every step's outputs, written after each step.
std::filesystem::path run_file_path(const std::string& config_path);
Result<StepOutputs> read_run_file(const std::filesystem::path& path,
                                  const std::string& environment);
Result<void> write_run_file(const std::filesystem::path& path, const std::string& environment,
                            const StepOutputs& outputs);

// The closing summary: release, sha256, artifact, each host and what it runs
// now, each step's duration and the outcome, as plain lines and as Markdown
// (for $GITHUB_STEP_SUMMARY).
std::string summary_text(const RunReport& report, const std::string& environment);
std::string summary_markdown(const RunReport& report, const std::string& environment);

// A command as a person would type it again: each word single-quoted when it
// holds anything a shell would read specially.
std::string display_command(const std::vector<std::string>& command);

// `switchyard run ...` (argv[0] is "run").
int run_main(int argc, char** argv);

}  // namespace switchyard::pipeline
