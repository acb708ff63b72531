#include "steps/switch-traffic/switch_traffic.hpp"

#include <iostream>
#include <map>
#include <string>

#include "runner/cli/host_commands.hpp"
#include "runner/cli/step.hpp"
#include "runner/core/log.hpp"
#include "runner/host/nginx.hpp"
#include "runner/host/switch.hpp"
#include "runner/store/store.hpp"

namespace switchyard::steps::switch_traffic {

namespace {

constexpr const char* k_description =
    "switchyard-switch-traffic: deploy an artifact on this host with zero downtime.\n"
    "Takes the host lock, fetches and verifies the artifact, starts it on the idle slot,\n"
    "gates it on health, switches nginx to it, confirms through nginx, drains and stops\n"
    "the old slot, and records the release. Any failure leaves the old version serving.";

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{k_description};
  CommonOptions options;
  add_common_options(app, options, true);
  SwitchRequest request;
  bool print_nginx_config = false;
  app.add_option("--artifact", request.artifact,
                 "the artifact: a path, file://, s3:// or http(s):// (a presigned URL)");
  app.add_option("--sha256", request.sha256,
                 "expected sha256 (default: from the manifest beside the artifact)");
  app.add_option("--release", request.version,
                 "the release label (default: the manifest's, else the file name)")
      ->type_name("LABEL");
  app.add_flag("--no-verify", request.no_verify,
               "deploy without a sha256 to check (no --sha256 and no manifest)");
  add_lock_timeout_flag(app, options);
  add_s3_store_flags(app, options);
  app.add_flag("--print-nginx-config", print_nginx_config,
               "print the nginx snippet for the configured mode and exit");

  return run_step(
      "switch-traffic", app, options, argc, argv, [&](StepContext& context) -> Result<void> {
        auto config = context.load_config();
        if (!config) return config.error();
        auto settings = load_host_settings(*config);
        if (!settings) return settings.error();
        request.store = s3_store_options(*config);

        if (print_nginx_config) {
          auto snippet = Nginx(settings->nginx).config_snippet();
          context.result["nginx_config"] = snippet;
          if (!context.options.json) std::cout << snippet;
          return {};
        }
        if (request.artifact.empty()) {
          return usage_error(
              "--artifact: required; name the jar (a path, file://, s3:// or a URL)");
        }

        if (context.options.dry_run) {
          auto plan = plan_switch_traffic(*settings, request);
          if (!plan) return plan.error();
          boost::json::array steps;
          for (const auto& line : *plan) {
            log::info("would {}", line);
            steps.emplace_back(line);
          }
          context.result["dry_run"] = true;
          context.result["plan"] = std::move(steps);
          return {};
        }

        auto outcome = run_switch_traffic(*settings, request);
        if (!outcome) return outcome.error();
        put_outcome(*outcome, context.result);
        log::info("{} {}: live on port {} ({}){}", settings->app, outcome->version, outcome->port,
                  outcome->slot,
                  outcome->previous_version.empty() ? std::string()
                                                    : ", replacing " + outcome->previous_version);
        return {};
      });
}

}  // namespace switchyard::steps::switch_traffic
