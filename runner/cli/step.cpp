#include "runner/cli/step.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "runner/core/branch.hpp"
#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/util/interrupt.hpp"
#include "runner/util/process.hpp"

namespace switchyard {
namespace {

std::string scalar_text(const boost::json::value& value) {
  if (value.is_string()) return std::string(value.as_string());
  if (value.is_bool()) return value.as_bool() ? "true" : "false";
  if (value.is_null()) return "";
  return boost::json::serialize(value);
}

// Masks every string in `value`: a secret with a quote or a backslash would
// no longer match once serialized with JSON escapes.
void mask_json(boost::json::value& value) {
  if (value.is_string()) {
    value = mask_secrets(value.as_string());
  } else if (value.is_array()) {
    for (auto& item : value.as_array())
      mask_json(item);
  } else if (value.is_object()) {
    for (auto& item : value.as_object())
      mask_json(item.value());
  }
}

// Scalars become CI outputs with dashes (GitHub's convention for outputs).
void publish_outputs(const boost::json::object& result) {
  for (const auto& [key, value] : result) {
    if (value.is_object() || value.is_array()) continue;
    std::string name(key);
    for (char& c : name) {
      if (c == '_') c = '-';
    }
    ci().set_output(name, mask_secrets(scalar_text(value)));
  }
}

}  // namespace

// `--config -`: the whole of stdin, read once (a step may load its
// configuration more than once).
static const std::string& configuration_from_stdin() {
  static const std::string text(std::istreambuf_iterator<char>(std::cin), {});
  return text;
}

Result<Config> StepContext::load_config(const std::map<std::string, std::string>& flags) const {
  ConfigLoadOptions load;
  load.flags = flags;
  if (options.config_path == "-") {
    // Exactly what the sender resolved: no ./switchyard.yml, no SWITCHYARD_*
    // variables, no environment choice (the sender chose it).
    load.document = configuration_from_stdin();
    return Config::load(load);
  }
  load.path = options.config_path;
  load.environment = options.environment;
  load.variables = current_environment();
  if (load.environment.empty()) load.branch = current_branch(load.variables);
  return Config::load(load);
}

void add_common_options(CLI::App& app, CommonOptions& options, bool changes_anything) {
  app.set_version_flag("--version", std::string(SWITCHYARD_VERSION));
  app.add_option("--config", options.config_path,
                 "switchyard.yml to read (default: ./switchyard.yml when present); - reads the "
                 "resolved configuration from stdin and ignores ./switchyard.yml and SWITCHYARD_*");
  app.add_option("--env", options.environment,
                 "environment section to use (default: chosen by branch)");
  app.add_flag("--json", options.json, "print one JSON result object on stdout");
  if (changes_anything) {
    app.add_flag("--dry-run", options.dry_run, "say what would be done, change nothing");
  }
  app.footer(k_exit_codes_help);
}

// Prints the outcome (error line and annotation, CI outputs, the --json
// result) and returns the exit code it maps to.
static int report_outcome(const std::string& program, StepContext& context,
                          const Result<void>& outcome);

int run_step(std::string name, CLI::App& app, CommonOptions& options, int argc, char** argv,
             const StepBody& body) {
  // Steps are their own executables (switchyard-verify-health); the runner's
  // subcommands pass their full name ("switchyard status").
  std::string program = name.find(' ') == std::string::npos ? "switchyard-" + name : name;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << program << " " << SWITCHYARD_VERSION << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    // A bad flag still gets a result object, so a CI wrapper that asked for
    // --json can report the message instead of a bare exit code.
    StepContext context;
    context.name = name;
    context.options.json = std::any_of(
        argv + 1, argv + argc, [](const char* word) { return std::string_view(word) == "--json"; });
    return report_outcome(program, context,
                          usage_error(program + ": " + e.what() + "; see " + program + " --help"));
  }

  install_interrupt_handlers();
  StepContext context;
  context.name = name;
  context.options = options;
  Result<void> outcome;
  try {
    outcome = body(context);
  } catch (const std::exception& e) {
    outcome = failure(program + ": unexpected error: " + e.what() +
                      "; please report it with the log above");
  }
  if (outcome.ok() && interrupted()) {
    outcome = Error{ExitCode::Interrupted, program + ": interrupted"};
  }
  return report_outcome(program, context, outcome);
}

static int report_outcome(const std::string& program, StepContext& context,
                          const Result<void>& outcome) {
  if (!outcome.ok()) {
    const Error& error = outcome.error();
    std::string message = mask_secrets(error.message);
    ci().annotate_error(program, message);
    context.result["ok"] = false;
    context.result["exit_code"] = static_cast<int>(error.code);
    context.result["error"] = message;
  } else {
    context.result["ok"] = true;
  }
  publish_outputs(context.result);
  if (context.options.json) {
    boost::json::value result = context.result;
    mask_json(result);
    std::cout << mask_secrets(boost::json::serialize(result)) << std::endl;
  }
  return outcome.ok() ? 0 : static_cast<int>(outcome.error().code);
}

}  // namespace switchyard
