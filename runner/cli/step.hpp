// What every step executable shares: the common flags (--help, --version,
// --config, --env, --json, --dry-run), flags that set configuration keys,
// the rules every flag follows (--version goes alone; no flag takes an empty
// value), the one top-level catch, the mapping of errors to exit codes, and
// the --json result / CI outputs. A step is `steps/<name>/`: a one-line main
// calling its `run(argc, argv)`, which builds a CLI::App and calls run_step.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "runner/core/config.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

struct CommonOptions {
  std::string config_path;  // --config (default ./switchyard.yml when present)
  std::string environment;  // --env
  bool json = false;        // --json: one result object on stdout
  bool dry_run = false;     // --dry-run: say what would change, change nothing
  // What the flags added with add_config_flag gave: the configuration's flag layer.
  ConfigFlags config_flags;
};

struct StepContext {
  std::string name;  // "verify-health"
  CommonOptions options;
  // The result: printed as one JSON object with --json; its scalar members
  // also become CI outputs (GitHub `$GITHUB_OUTPUT`, the Jenkins output file).
  boost::json::object result;
  // Loads switchyard.yml with the common options, the process environment,
  // the branch, and the flag layer (options.config_flags and `flags`, key
  // path -> value) on top.
  Result<Config> load_config(const std::map<std::string, std::string>& flags = {}) const;
};

using StepBody = std::function<Result<void>(StepContext& context)>;

// Adds the common flags to `app`; --dry-run only when `changes_anything`.
// The exit codes are appended to the --help text.
void add_common_options(CLI::App& app, CommonOptions& options, bool changes_anything);

// Adds `flag` (--timeout) setting the configuration key `key`
// (health.timeout): its value goes into options.config_flags, so the
// configuration applies it with its one precedence (flag > variable >
// environment section > top level > default) and names the flag when the
// value is malformed. A list key's flag is repeatable, one item per
// occurrence; a Boolean key's is a switch that sets it true, or false when
// the flag is named --no-... (--no-rollback-on-failure).
CLI::Option* add_config_flag(CLI::App& app, CommonOptions& options, const std::string& flag,
                             std::string_view key, const std::string& help);

// Adds --endpoint, --region and --profile (artifact.endpoint, artifact.region,
// artifact.profile): how a step that reads or writes artifacts reaches an
// s3:// store; store/s3_store_options reads them back.
void add_s3_store_flags(CLI::App& app, CommonOptions& options);

// The message for `--version` given with anything else: the release label
// used to be `--version LABEL`, and a workflow still written that way must
// fail loudly instead of printing the version and exiting 0.
std::string version_not_alone_message(const std::string& program);

// Parses `argv` into `app`, runs `body`, and maps the outcome to an exit code:
// `--version` alone prints the program's version, with anything else it
// exits 2; bad flags, and a flag or argument given an empty value, exit 2
// with a message naming the flag; an Error prints its
// one-line message (and a CI annotation) and returns its code; an exception
// escaping `body` is reported as a failure; SIGINT/SIGTERM give 130.
// `name` is a step's ("verify-health", reported as switchyard-verify-health)
// or a runner subcommand's full name ("switchyard status").
int run_step(std::string name, CLI::App& app, CommonOptions& options, int argc, char** argv,
             const StepBody& body);

// The directory of the running executable (/proc/self/exe); empty when unknown.
std::filesystem::path self_directory();

// The executable for `step` (switchyard-<step>): in `self_dir` first (beside
// the running `switchyard`), then PATH; empty when neither has it.
std::filesystem::path step_executable(std::string_view step, const std::filesystem::path& self_dir);

}  // namespace switchyard
