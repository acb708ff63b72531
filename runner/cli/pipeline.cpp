#include "runner/cli/pipeline.hpp"

#include <spdlog/fmt/fmt.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "runner/cli/step.hpp"
#include "runner/core/branch.hpp"
#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/deploy/shell_quote.hpp"
#include "runner/util/atomic_file.hpp"
#include "runner/util/process.hpp"

namespace switchyard::pipeline {
namespace {

constexpr std::string_view k_build = "build-jar";
constexpr std::string_view k_push = "push-artifact";
constexpr std::string_view k_deploy = "request-deploy";
constexpr std::string_view k_verify = "verify-health";

// The string member `key` of `object`, or "".
std::string text_of(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

// Output `key` of step `producer`; a usage error naming both when it is
// missing (with `placeholder`, "<key from producer>" instead).
Result<std::string> output_of(const StepOutputs& outputs, std::string_view producer,
                              std::string_view key, std::string_view consumer) {
  auto it = outputs.find(std::string(producer));
  std::string value = it == outputs.end() ? "" : text_of(it->second, key);
  if (value.empty()) {
    return usage_error(fmt::format(
        "{}: needs {}'s '{}' output, which neither this run nor the last one recorded; run "
        "{} first (switchyard run --from {})",
        consumer, producer, key, producer, producer));
  }
  return value;
}

std::vector<std::string> with_common(std::vector<std::string> arguments,
                                     const CommonArguments& common) {
  if (!common.config_path.empty()) {
    arguments.push_back("--config");
    arguments.push_back(common.config_path);
  }
  if (!common.environment.empty()) {
    arguments.push_back("--env");
    arguments.push_back(common.environment);
  }
  arguments.emplace_back("--json");
  return arguments;
}

std::string format_seconds(double seconds) {
  return fmt::format("{:.1f}s", seconds);
}

std::string outcome_word(const StepRecord& step) {
  if (step.skipped) return "skipped";
  return step.exit_code == 0 ? "ok" : fmt::format("failed (exit {})", step.exit_code);
}

// Each host of request-deploy's result: "web1: 1.0.1-abc (was 1.0.0-def), ok".
std::vector<std::string> host_lines(const RunReport& report) {
  std::vector<std::string> lines;
  auto it = report.outputs.find(std::string(k_deploy));
  if (it == report.outputs.end()) return lines;
  const auto* hosts = it->second.if_contains("hosts");
  if (hosts == nullptr || !hosts->is_array()) return lines;
  for (const auto& entry : hosts->as_array()) {
    if (!entry.is_object()) continue;
    const auto& host = entry.as_object();
    std::string line = text_of(host, "host") + ": " + text_of(host, "after");
    if (std::string before = text_of(host, "before"); !before.empty()) {
      line += " (was " + before + ")";
    }
    if (std::string result = text_of(host, "result"); !result.empty()) line += ", " + result;
    lines.push_back(line);
  }
  return lines;
}

// Release, sha256 and artifact of the run, from the steps that report them.
std::vector<std::pair<std::string, std::string>> release_facts(const RunReport& report) {
  std::vector<std::pair<std::string, std::string>> facts;
  auto find = [&](std::string_view step, std::string_view key) -> std::string {
    auto it = report.outputs.find(std::string(step));
    return it == report.outputs.end() ? "" : text_of(it->second, key);
  };
  std::string release = find(k_push, "version");
  if (release.empty()) release = find(k_build, "version");
  std::string sha256 = find(k_push, "sha256");
  if (sha256.empty()) sha256 = find(k_build, "sha256");
  if (!release.empty()) facts.emplace_back("release", release);
  if (std::string app_version = find(k_build, "app_version"); !app_version.empty()) {
    facts.emplace_back("app version", app_version);
  }
  if (!sha256.empty()) facts.emplace_back("sha256", sha256);
  if (std::string uri = find(k_push, "artifact_uri"); !uri.empty())
    facts.emplace_back("artifact", uri);
  return facts;
}

std::string outcome_line(const RunReport& report) {
  if (report.failed_step.empty()) return "deployed";
  std::string line = fmt::format("failed at {} (exit {})", report.failed_step, report.exit_code);
  if (report.rolled_back) line += "; rolled back";
  return line;
}

bool word_needs_quotes(std::string_view word) {
  if (word.empty()) return true;
  return std::any_of(word.begin(), word.end(), [](char c) {
    return !(std::isalnum(static_cast<unsigned char>(c)) != 0 ||
             std::string_view("-_./:=@,+%").find(c) != std::string_view::npos);
  });
}

}  // namespace

const std::vector<std::string>& step_names() {
  static const std::vector<std::string> names = {std::string(k_build), std::string(k_push),
                                                 std::string(k_deploy), std::string(k_verify)};
  return names;
}

Result<std::vector<std::string>> select_steps(std::string_view only, std::string_view from) {
  const auto& all = step_names();
  auto known = [&](std::string_view name) -> Result<void> {
    if (std::find(all.begin(), all.end(), name) != all.end()) return {};
    return usage_error(
        fmt::format("{}: not a pipeline step; the steps are {}", name, fmt::join(all, ", ")));
  };
  if (!only.empty() && !from.empty()) {
    return usage_error(
        "--only and --from: give one of them; --from runs a step and the ones after it");
  }
  if (!from.empty()) {
    if (auto checked = known(from); !checked) return checked.error();
    return std::vector<std::string>(std::find(all.begin(), all.end(), from), all.end());
  }
  if (only.empty()) return all;
  std::vector<std::string> chosen;
  std::stringstream list{std::string(only)};
  for (std::string name; std::getline(list, name, ',');) {
    if (auto checked = known(name); !checked) return checked.error();
    chosen.push_back(name);
  }
  std::vector<std::string> ordered;
  for (const auto& name : all) {
    if (std::find(chosen.begin(), chosen.end(), name) != chosen.end()) ordered.push_back(name);
  }
  return ordered;
}

Result<std::vector<std::string>> step_arguments(std::string_view step, const StepOutputs& outputs,
                                                const std::string& verify_url,
                                                const std::string& expect_version) {
  if (step == k_build) return std::vector<std::string>{};
  if (step == k_push) {
    auto jar = output_of(outputs, k_build, "jar", step);
    if (!jar) return jar.error();
    return std::vector<std::string>{*jar};
  }
  if (step == k_deploy) {
    auto artifact = output_of(outputs, k_push, "artifact_uri", step);
    if (!artifact) return artifact.error();
    auto sha256 = output_of(outputs, k_push, "sha256", step);
    if (!sha256) return sha256.error();
    auto release = output_of(outputs, k_push, "version", step);
    if (!release) return release.error();
    return std::vector<std::string>{"--artifact=" + *artifact, "--sha256=" + *sha256,
                                    "--release=" + *release};
  }
  if (step == k_verify) {
    std::vector<std::string> arguments{verify_url};
    if (!expect_version.empty()) arguments.push_back("--expect-version=" + expect_version);
    return arguments;
  }
  return usage_error(std::string(step) + ": not a pipeline step");
}

std::string version_to_expect(const StepOutputs& outputs) {
  auto build = outputs.find(std::string(k_build));
  std::string app_version = build == outputs.end() ? "" : text_of(build->second, "app_version");
  if (app_version.empty()) return "";
  auto deploy = outputs.find(std::string(k_deploy));
  if (deploy == outputs.end()) return app_version;
  const auto* hosts = deploy->second.if_contains("hosts");
  if (hosts == nullptr || !hosts->is_array() || hosts->as_array().empty()) return app_version;
  for (const auto& host : hosts->as_array()) {
    if (!host.is_object() || text_of(host.as_object(), "previous_app_version") != app_version) {
      return app_version;
    }
  }
  return "";
}

StepRecord ProcessStepLauncher::launch(const std::string& step,
                                       const std::vector<std::string>& arguments) {
  StepRecord record;
  record.name = step;
  auto executable = step_executable(step, m_self_dir);
  record.command.push_back(executable.empty() ? "switchyard-" + step : executable.string());
  record.command.insert(record.command.end(), arguments.begin(), arguments.end());
  if (executable.empty()) {
    record.exit_code = static_cast<int>(ExitCode::Unavailable);
    record.note = "switchyard-" + step + ": not found beside switchyard or in PATH; install it";
    log::error("{}", record.note);
    return record;
  }

  // The step's own CI outputs would overwrite each other's (every step has a
  // `version`): it gets scratch files, and the run publishes once at the end.
  std::error_code ignored;
  auto scratch = std::filesystem::temp_directory_path() / ("switchyard-run-" + random_token());
  std::filesystem::create_directories(scratch, ignored);
  ProcessSpec spec;
  spec.argv = record.command;
  spec.set_environment["GITHUB_OUTPUT"] = (scratch / "github-output").string();
  spec.set_environment["SWITCHYARD_OUTPUT_FILE"] = (scratch / "outputs").string();

  std::string stdout_text;
  auto started = std::chrono::steady_clock::now();
  auto outcome = run_process(spec, [&](Stream stream, std::string_view line) {
    if (stream == Stream::Stdout) {
      stdout_text.append(line).push_back('\n');
    } else {
      // Already masked and formatted for this CI by the step itself.
      std::cerr << line << '\n' << std::flush;
    }
  });
  record.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::filesystem::remove_all(scratch, ignored);
  if (!outcome) {
    record.exit_code = static_cast<int>(outcome.error().code);
    record.note = outcome.error().message;
    log::error("{}", record.note);
    return record;
  }
  record.exit_code =
      outcome->signal != 0 ? static_cast<int>(ExitCode::Interrupted) : outcome->exit_code;
  // --json prints one object on its last line.
  std::string last_line;
  for (std::stringstream lines(stdout_text); std::getline(lines, last_line);) {
    boost::system::error_code parse_error;
    auto value = boost::json::parse(last_line, parse_error);
    if (!parse_error && value.is_object()) record.result = value.as_object();
  }
  return record;
}

RunReport run_pipeline(const RunRequest& request, StepLauncher& launcher) {
  RunReport report;
  report.outputs = request.earlier;
  for (const auto& step : step_names()) {
    if (std::find(request.steps.begin(), request.steps.end(), step) == request.steps.end()) {
      continue;
    }
    if (step == k_verify && request.verify_url.empty()) {
      StepRecord skipped;
      skipped.name = step;
      skipped.skipped = true;
      skipped.note = "verify.url is not set in switchyard.yml; nothing to verify";
      log::warn("{}: skipped: {}", step, skipped.note);
      report.steps.push_back(skipped);
      continue;
    }
    std::string expect = step == k_verify ? version_to_expect(report.outputs) : "";
    if (step == k_verify && expect.empty()) {
      log::info(
          "{}: the hosts ran this app_version before the deploy, so a version check could "
          "not tell old from new; checking health only",
          step);
    }
    auto arguments = step_arguments(step, report.outputs, request.verify_url, expect);
    if (!arguments) {
      StepRecord refused;
      refused.name = step;
      refused.exit_code = static_cast<int>(arguments.error().code);
      refused.note = arguments.error().message;
      report.steps.push_back(refused);
      report.exit_code = static_cast<int>(arguments.error().code);
      report.failed_step = step;
      log::error("{}", arguments.error().message);
      break;
    }
    auto command = with_common(*arguments, request.common);
    CiGroup group(step);
    log::info("$ {}", display_command([&] {
                auto shown = command;
                shown.insert(shown.begin(), "switchyard-" + step);
                return shown;
              }()));
    StepRecord record = launcher.launch(step, command);
    report.steps.push_back(record);
    if (record.exit_code == 0) {
      report.outputs[step] = record.result;
      if (!request.run_file.empty()) {
        if (auto written =
                write_run_file(request.run_file, request.common.environment, report.outputs);
            !written) {
          log::warn("{}", written.error().message);
        }
      }
      continue;
    }
    report.exit_code = record.exit_code;
    report.failed_step = step;
    if (step == k_verify && record.exit_code == static_cast<int>(ExitCode::Failure)) {
      if (!request.rollback_on_failed_verify) {
        log::warn("{}: failed; not rolling back (--no-rollback): the new release keeps serving",
                  step);
      } else {
        log::warn("{}: failed; rolling the deploy back", step);
        auto rollback =
            launcher.launch(std::string(k_deploy), with_common({"--rollback"}, request.common));
        rollback.name = std::string(k_deploy) + " --rollback";
        report.rolled_back = rollback.exit_code == 0;
        report.steps.push_back(rollback);
      }
    }
    break;
  }
  return report;
}

std::filesystem::path run_file_path(const std::string& config_path) {
  std::filesystem::path base = config_path.empty() || config_path == "-"
                                   ? std::filesystem::path(".")
                                   : std::filesystem::path(config_path).parent_path();
  if (base.empty()) base = ".";
  return base / ".switchyard" / "run.json";
}

Result<StepOutputs> read_run_file(const std::filesystem::path& path,
                                  const std::string& environment) {
  std::ifstream in(path);
  if (!in) return StepOutputs{};
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code parse_error;
  auto value = boost::json::parse(text.str(), parse_error);
  if (parse_error || !value.is_object()) {
    return usage_error(path.string() +
                       ": not a run file switchyard wrote; delete it and run the "
                       "whole pipeline");
  }
  const auto& object = value.as_object();
  if (text_of(object, "environment") != environment) {
    return usage_error(fmt::format(
        "{}: recorded a run for environment '{}', not '{}'; run the whole pipeline (without "
        "--from/--only) for this environment first",
        path.string(), text_of(object, "environment"), environment));
  }
  StepOutputs outputs;
  if (const auto* steps = object.if_contains("outputs"); steps != nullptr && steps->is_object()) {
    for (const auto& [name, result] : steps->as_object()) {
      if (result.is_object()) outputs[std::string(name)] = result.as_object();
    }
  }
  return outputs;
}

Result<void> write_run_file(const std::filesystem::path& path, const std::string& environment,
                            const StepOutputs& outputs) {
  boost::json::object steps;
  for (const auto& [name, result] : outputs)
    steps[name] = result;
  boost::json::object file{{"environment", environment}, {"outputs", steps}};
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  return write_file_atomically(path, mask_secrets(boost::json::serialize(file)) + "\n");
}

std::string summary_text(const RunReport& report, const std::string& environment) {
  std::string text =
      fmt::format("switchyard run ({}): {}\n", environment.empty() ? "no environment" : environment,
                  outcome_line(report));
  for (const auto& [name, value] : release_facts(report))
    text += fmt::format("  {:<12} {}\n", name, value);
  for (const auto& line : host_lines(report))
    text += "  host         " + line + "\n";
  for (const auto& step : report.steps) {
    text += fmt::format("  {:<26} {:<18} {}\n", step.name, outcome_word(step),
                        step.skipped ? step.note : format_seconds(step.seconds));
  }
  return text;
}

std::string summary_markdown(const RunReport& report, const std::string& environment) {
  std::string text =
      fmt::format("### switchyard run ({}): {}\n\n",
                  environment.empty() ? "no environment" : environment, outcome_line(report));
  auto facts = release_facts(report);
  auto hosts = host_lines(report);
  if (!facts.empty() || !hosts.empty()) {
    text += "| | |\n|---|---|\n";
    for (const auto& [name, value] : facts)
      text += fmt::format("| {} | `{}` |\n", name, value);
    for (const auto& line : hosts)
      text += fmt::format("| host | {} |\n", line);
    text += "\n";
  }
  text += "| step | outcome | duration |\n|---|---|---|\n";
  for (const auto& step : report.steps) {
    text += fmt::format("| {} | {} | {} |\n", step.name, outcome_word(step),
                        step.skipped ? step.note : format_seconds(step.seconds));
  }
  return text;
}

std::string display_command(const std::vector<std::string>& command) {
  std::string text;
  for (const auto& word : command) {
    if (!text.empty()) text += ' ';
    // Plain words stay bare so the line reads as typed; the rest are quoted
    // the one way request-deploy quotes for a remote shell.
    text += word_needs_quotes(word) ? shell_quote(word) : word;
  }
  return text;
}

namespace {

// --dry-run: the environment, each step's command (outputs not known yet
// shown as <step's key>), and what the hosts run now (request-deploy --status).
void print_plan(const RunRequest& request, StepLauncher& launcher) {
  StepOutputs placeholders = request.earlier;
  auto fill = [&](std::string_view step, std::initializer_list<std::string_view> keys) {
    auto& outputs = placeholders[std::string(step)];
    for (auto key : keys) {
      if (!outputs.contains(key)) outputs[key] = fmt::format("<{} from {}>", key, step);
    }
  };
  fill(k_build, {"jar", "app_version"});
  fill(k_push, {"artifact_uri", "sha256", "version"});
  for (const auto& step : request.steps) {
    if (step == k_verify && request.verify_url.empty()) {
      log::info("{}: skipped: verify.url is not set", step);
      continue;
    }
    auto arguments = step_arguments(step, placeholders, request.verify_url,
                                    text_of(placeholders[std::string(k_build)], "app_version"));
    if (!arguments) continue;
    auto command = with_common(*arguments, request.common);
    command.insert(command.begin(), "switchyard-" + step);
    log::info("would run: {}", display_command(command));
  }
  log::info("what the hosts run now:");
  auto status = launcher.launch(std::string(k_deploy), with_common({"--status"}, request.common));
  if (status.exit_code != 0) {
    log::warn("request-deploy --status: exit {}; the hosts' state is unknown", status.exit_code);
  }
}

}  // namespace

int run_main(int argc, char** argv) {
  CLI::App app{
      "switchyard run: build, store, deploy and verify, as switchyard.yml says, picking the "
      "environment from the branch (or --env)"};
  CommonOptions options;
  add_common_options(app, options, true);
  std::string only;
  std::string from;
  bool no_rollback = false;
  app.add_option("--only", only,
                 "run only these steps (comma-separated), with the others' "
                 "outputs from the last run");
  app.add_option("--from", from,
                 "resume at this step, with the earlier steps' outputs from the "
                 "last run");
  app.add_flag("--no-rollback", no_rollback,
               "keep the new release when verify-health fails (default: roll back)");
  return run_step(
      "switchyard run", app, options, argc, argv, [&](StepContext& context) -> Result<void> {
        auto steps = select_steps(only, from);
        if (!steps) return steps.error();
        auto config = context.load_config();
        if (!config) return config.error();
        context.result["environment"] = config->environment();
        if (!config->environments().empty() && config->environment().empty()) {
          std::string branch = current_branch(current_environment());
          log::info(
              "switchyard run: branch '{}' matches no environment's branches ({}); nothing to "
              "deploy",
              branch.empty() ? "(unknown)" : branch, fmt::join(config->environments(), ", "));
          context.result["deployed"] = false;
          context.result["branch"] = branch;
          return {};
        }
        auto verify_url = config->string("verify.url");
        if (!verify_url) return verify_url.error();

        RunRequest request;
        request.common = {options.config_path, config->environment()};
        request.steps = *steps;
        request.verify_url = *verify_url;
        request.rollback_on_failed_verify = !no_rollback;
        request.run_file = run_file_path(options.config_path);
        if (!only.empty() || !from.empty()) {
          auto earlier = read_run_file(request.run_file, config->environment());
          if (!earlier) return earlier.error();
          request.earlier = *earlier;
        }
        ProcessStepLauncher launcher(self_directory());
        if (options.dry_run) {
          log::info("switchyard run: environment '{}'{}", config->environment(),
                    config->environment().empty() ? " (the file defines none)" : "");
          print_plan(request, launcher);
          context.result["dry_run"] = true;
          return {};
        }

        auto report = run_pipeline(request, launcher);
        std::cerr << summary_text(report, config->environment());
        ci().add_summary(summary_markdown(report, config->environment()));
        boost::json::array step_results;
        for (const auto& step : report.steps) {
          step_results.push_back({{"name", step.name},
                                  {"exit_code", step.exit_code},
                                  {"seconds", step.seconds},
                                  {"skipped", step.skipped},
                                  {"command", display_command(step.command)},
                                  {"result", step.result}});
        }
        for (const auto& [name, value] : release_facts(report)) {
          std::string key = name == "app version" ? "app_version"
                            : name == "release"   ? "version"
                                                  : name;
          if (key == "artifact") key = "artifact_uri";
          context.result[key] = value;
        }
        if (auto deploy = report.outputs.find(std::string(k_deploy));
            deploy != report.outputs.end()) {
          if (const auto* hosts = deploy->second.if_contains("hosts"))
            context.result["hosts"] = *hosts;
        }
        context.result["steps"] = std::move(step_results);
        context.result["rolled_back"] = report.rolled_back;
        context.result["deployed"] = report.exit_code == 0;
        if (report.exit_code == 0) return {};
        context.result["failed_step"] = report.failed_step;
        return Error{
            static_cast<ExitCode>(report.exit_code),
            fmt::format("switchyard run: {} failed (exit {}){}; fix what it said above, then "
                        "rerun from there with 'switchyard run --from {}'",
                        report.failed_step, report.exit_code,
                        report.rolled_back ? " and the deploy was rolled back" : "",
                        report.failed_step)};
      });
}

}  // namespace switchyard::pipeline
