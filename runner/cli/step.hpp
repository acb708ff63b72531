// What every step executable shares: the common flags (--help, --version,
// --config, --env, --json, --dry-run), the one top-level catch, the mapping
// of errors to exit codes, and the --json result / CI outputs.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <functional>
#include <string>

#include "runner/core/config.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

struct CommonOptions {
  std::string config_path;  // --config (default ./switchyard.yml when present)
  std::string environment;  // --env
  bool json = false;        // --json: one result object on stdout
  bool dry_run = false;     // --dry-run: say what would change, change nothing
};

struct StepContext {
  std::string name;  // "verify-health"
  CommonOptions options;
  // The result: printed as one JSON object with --json; its scalar members
  // also become CI outputs (GitHub `$GITHUB_OUTPUT`, the Jenkins output file).
  boost::json::object result;
  // Loads switchyard.yml with the common options, the process environment,
  // the branch, and `flags` (key path -> value) on top.
  Result<Config> load_config(const std::map<std::string, std::string>& flags = {}) const;
};

using StepBody = std::function<Result<void>(StepContext& context)>;

// Adds the common flags to `app`; --dry-run only when `changes_anything`.
// The exit codes are appended to the --help text.
void add_common_options(CLI::App& app, CommonOptions& options, bool changes_anything);

// Parses `argv` into `app`, runs `body`, and maps the outcome to an exit code:
// bad flags exit 2 with a message naming the flag; an Error prints its
// one-line message (and a CI annotation) and returns its code; an exception
// escaping `body` is reported as a failure; SIGINT/SIGTERM give 130.
// `name` is a step's ("verify-health", reported as switchyard-verify-health)
// or a runner subcommand's full name ("switchyard status").
int run_step(std::string name, CLI::App& app, CommonOptions& options, int argc, char** argv,
             const StepBody& body);

}  // namespace switchyard
