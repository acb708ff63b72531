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
  load.flags = options.config_flags;
  for (const auto& [key, value] : flags)
    load.flags.values[key] = value;
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

CLI::Option* add_config_flag(CLI::App& app, CommonOptions& options, const std::string& flag,
                             std::string_view key_path, const std::string& help) {
  const ConfigKey* key = find_config_key(key_path);
  if (key == nullptr) {
    throw std::logic_error(flag + ": no configuration key " + std::string(key_path));
  }
  std::string path(key_path);
  options.config_flags.names[path] = flag;
  ConfigFlags& flags = options.config_flags;
  if (key->type == ConfigType::Boolean) {
    std::string value = flag.starts_with("--no-") ? "false" : "true";
    return app.add_flag_function(
        flag, [&flags, path, value](std::int64_t) { flags.values[path] = value; }, help);
  }
  if (key->type == ConfigType::StringList) {
    // One item per occurrence, so a positional argument after it stays one.
    return app
        .add_option(
            flag,
            [&flags, path](const CLI::results_t& items) {
              flags.lists[path] = items;
              return true;
            },
            help)
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
  return app
      .add_option(
          flag,
          [&flags, path](const CLI::results_t& values) {
            flags.values[path] = values.back();
            return true;
          },
          help)
      ->expected(1);
}

void add_s3_store_flags(CLI::App& app, CommonOptions& options) {
  add_config_flag(app, options, "--endpoint", "artifact.endpoint",
                  "S3-compatible endpoint URL for s3:// artifacts, path-style addressing "
                  "(artifact.endpoint)")
      ->type_name("URL");
  add_config_flag(app, options, "--region", "artifact.region",
                  "AWS region for s3:// artifacts (artifact.region)");
  add_config_flag(app, options, "--profile", "artifact.profile",
                  "AWS profile for s3:// artifacts (artifact.profile)");
}

std::string version_not_alone_message(const std::string& program) {
  return program +
         ": --version prints the program's version and takes no other argument; the release "
         "label is now --release LABEL (build-jar: --release-template T), see CHANGELOG.md";
}

void add_common_options(CLI::App& app, CommonOptions& options, bool changes_anything) {
  app.set_version_flag("--version", std::string(SWITCHYARD_VERSION),
                       "print the program's version and exit (alone)");
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

namespace {

bool is_version_flag(std::string_view word) {
  return word == "--version" || word.starts_with("--version=");
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

std::string empty_flag_message(const std::string& flag) {
  return flag + ": empty value; give it a value or leave the flag out";
}

// `--flag=` with nothing after the '=': CLI11 would take the next argument as
// the value, shifting every later one into the place of the one before.
std::string empty_inline_value_problem(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view word = argv[i];
    if (word == "--") break;
    auto equals = word.find('=');
    if (!word.starts_with("--") || equals == std::string_view::npos) continue;
    if (is_blank(word.substr(equals + 1))) {
      return empty_flag_message(std::string(word.substr(0, equals)));
    }
  }
  return "";
}

// The option `word` names ("--release", "--release=x"), if `app` has one.
const CLI::Option* named_option(const CLI::App& app, std::string_view word) {
  if (!word.starts_with("-") || word == "-" || word == "--") return nullptr;
  return app.get_option_no_throw(std::string(word.substr(0, word.find('='))));
}

// `--flag` followed by another of the step's flags: CLI11 would take that
// flag as the value (`--release --sha256 X` labelling the release
// "--sha256"); an unquoted empty variable in a script does exactly that.
std::string missing_value_problem(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    std::string_view word = argv[i];
    if (word == "--") break;
    const CLI::Option* option = named_option(app, word);
    if (option == nullptr || option->get_items_expected_max() == 0 ||
        word.find('=') != std::string_view::npos) {
      continue;
    }
    std::string_view next = argv[i + 1];
    if (named_option(app, next) != nullptr) {
      return std::string(word) + ": no value (the next argument is the flag " +
             std::string(next.substr(0, next.find('='))) +
             "); give it a value or leave the flag out";
    }
    ++i;  // the value
  }
  return "";
}

// The first option or argument given an empty (or blank) value: a workflow
// expression that came out empty must not stand in for a value, nor let the
// next argument shift into its place.
std::string empty_value_problem(const CLI::App& app) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_items_expected_max() == 0 || option->count() == 0) continue;
    for (const auto& value : option->results()) {
      if (!is_blank(value)) continue;
      if (option->get_positional()) {
        return option->get_name(/*positional=*/true) +
               ": empty value; give it a value or leave "
               "it out";
      }
      return empty_flag_message(option->get_name());
    }
  }
  return "";
}

}  // namespace

int run_step(std::string name, CLI::App& app, CommonOptions& options, int argc, char** argv,
             const StepBody& body) {
  // Steps are their own executables (switchyard-verify-health); the runner's
  // subcommands pass their full name ("switchyard status").
  std::string program = name.find(' ') == std::string::npos ? "switchyard-" + name : name;
  bool json = std::any_of(argv + 1, argv + argc,
                          [](const char* word) { return std::string_view(word) == "--json"; });
  // A bad command line still gets a result object, so a CI wrapper that asked
  // for --json can report the message instead of a bare exit code.
  auto refuse = [&](const std::string& message) {
    StepContext context;
    context.name = name;
    context.options.json = json;
    return report_outcome(program, context, usage_error(message));
  };
  if (std::any_of(argv + 1, argv + argc, is_version_flag)) {
    if (argc != 2 || std::string_view(argv[1]) != "--version") {
      return refuse(version_not_alone_message(program));
    }
    std::cout << program << " " << SWITCHYARD_VERSION << "\n";
    return 0;
  }
  for (const std::string& problem :
       {empty_inline_value_problem(argc, argv), missing_value_problem(app, argc, argv)}) {
    if (!problem.empty()) return refuse(program + ": " + problem);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << program << " " << SWITCHYARD_VERSION << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    return refuse(program + ": " + e.what() + "; see " + program + " --help");
  }
  if (std::string problem = empty_value_problem(app); !problem.empty()) {
    return refuse(program + ": " + problem);
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

std::filesystem::path self_directory() {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::filesystem::path() : self.parent_path();
}

std::filesystem::path step_executable(std::string_view step,
                                      const std::filesystem::path& self_dir) {
  std::string name = "switchyard-" + std::string(step);
  if (!self_dir.empty()) {
    auto beside = self_dir / name;
    if (::access(beside.c_str(), X_OK) == 0) return beside;
  }
  return find_program(name);
}

}  // namespace switchyard
