#include "steps/rollback/rollback.hpp"

#include <iostream>
#include <map>
#include <string>

#include "runner/cli/host_commands.hpp"
#include "runner/cli/step.hpp"
#include "runner/core/log.hpp"
#include "runner/host/rollback.hpp"

namespace switchyard::steps::rollback {

namespace {

constexpr const char* k_description =
    "switchyard-rollback: go back to the previous release (default) or any kept one.\n"
    "A release still running warm is switched to at once; otherwise it starts from\n"
    "releases/<version>/ through the same health gate and switch as a deploy.";

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{k_description};
  CommonOptions options;
  add_common_options(app, options, true);
  RollbackRequest request;
  bool list = false;
  app.add_option("--to,--release", request.to,
                 "the kept release to go back to (default: the previous one)");
  app.add_flag("--list", list, "list the kept releases, marking the live one, and exit");
  add_lock_timeout_flag(app, options);

  return run_step("rollback", app, options, argc, argv, [&](StepContext& context) -> Result<void> {
    auto settings = load_host_settings(context);
    if (!settings) return settings.error();

    if (list) {
      auto kept = list_kept_releases(*settings);
      if (!kept) return kept.error();
      boost::json::array releases;
      for (const auto& entry : *kept) {
        releases.push_back({{"version", entry.release.version},
                            {"sha256", entry.release.sha256},
                            {"fetched_at", entry.release.fetched_at},
                            {"live", entry.live},
                            {"previous", entry.previous},
                            {"warm", entry.warm}});
      }
      context.result["releases"] = std::move(releases);
      if (!context.options.json) std::cout << format_kept_releases(*kept);
      return {};
    }

    if (context.options.dry_run) {
      auto kept = list_kept_releases(*settings);
      if (!kept) return kept.error();
      std::string target = request.to;
      bool warm = false;
      for (const auto& entry : *kept) {
        if ((target.empty() && entry.previous) || entry.release.version == target) {
          target = entry.release.version;
          warm = entry.warm;
        }
      }
      if (target.empty()) {
        return usage_error(settings->app + ": no previous release is recorded; name one with --to");
      }
      log::info("would roll back to {} ({})", target,
                warm ? "instant: it is still warm" : "from disk, through the health gate");
      context.result["dry_run"] = true;
      context.result["version"] = target;
      context.result["instant"] = warm;
      return {};
    }

    auto outcome = run_rollback(*settings, request);
    if (!outcome) return outcome.error();
    put_outcome(*outcome, context.result);
    log::info("{} {}: live again on port {}{}", settings->app, outcome->version, outcome->port,
              outcome->instant ? " (instant: it was warm)" : "");
    return {};
  });
}

}  // namespace switchyard::steps::rollback
