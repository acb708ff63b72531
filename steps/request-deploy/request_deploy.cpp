#include "steps/request-deploy/request_deploy.hpp"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "runner/cli/step.hpp"
#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/deploy/agent.hpp"
#include "runner/deploy/codedeploy.hpp"
#include "runner/deploy/presign.hpp"
#include "runner/deploy/remote_config.hpp"
#include "runner/deploy/rollout.hpp"
#include "runner/host/state.hpp"
#include "runner/util/environment.hpp"

namespace switchyard::steps::request_deploy {

namespace {

constexpr const char* k_description =
    "switchyard-request-deploy: ask the hosts to deploy a release, and see it through.\n"
    "--via local deploys on this machine; --via ssh reaches each host with OpenSSH (host keys\n"
    "pinned), checks every host and takes every host's lock before any host changes, sends\n"
    "the resolved configuration and the artifact over the connection, and deploys `batch`\n"
    "hosts at a time. A failure on any host stops the rollout and rolls the hosts already\n"
    "switched back. --rollback takes the whole fleet back; --status shows what each runs.\n"
    "--via codedeploy uploads a revision bundle and follows an AWS CodeDeploy deployment,\n"
    "printing the failing hook's log when one fails.";

// What --via codedeploy takes from the command line beyond the artifact
// and deploy.codedeploy.* (--wait).
struct CodeDeployFlags {
  bool no_wait = false;
  bool stop_on_timeout = false;
};

// --via codedeploy: the revision bundle, CreateDeployment, and the
// deployment followed to its end (runner/deploy/codedeploy).
Result<void> deploy_through_codedeploy(StepContext& context, const Config& config,
                                       const FleetRequest& fleet, const CodeDeployFlags& flags,
                                       bool rollback_or_status) {
  if (rollback_or_status) {
    return usage_error(
        "--via codedeploy: --rollback and --status belong to CodeDeploy itself; use the "
        "deployment group's automatic rollback, or deploy the release to go back to");
  }
  CodeDeployRequest request;
  request.artifact = fleet.artifact;
  request.sha256 = fleet.sha256;
  request.release = fleet.release;
  request.wait = !flags.no_wait;
  request.stop_on_timeout = flags.stop_on_timeout;
  request.dry_run = context.options.dry_run;
  auto outcome = deploy_with_codedeploy(config, request);
  if (!outcome) return outcome.error();
  for (const auto& [name, value] : codedeploy_outputs(*outcome)) {
    std::string key = name;
    std::replace(key.begin(), key.end(), '-', '_');
    context.result[key] = value;
  }
  if (outcome->exit_code == ExitCode::Success) return {};
  return Error{outcome->exit_code, outcome->message};
}

// Who asked, for each host's history: ssh does not forward the CI's
// environment, so it travels with the configuration.
std::string requested_by(const std::map<std::string, std::string>& environment) {
  std::string who = deploy_actor(environment);
  std::string user = environment_value(environment, "GITHUB_ACTOR");
  if (user.empty()) user = environment_value(environment, "BUILD_USER_ID");
  if (!user.empty() && who.find(user) == std::string::npos) who += " by " + user;
  std::string sha = environment_value(environment, "GITHUB_SHA");
  if (sha.empty()) sha = environment_value(environment, "GIT_COMMIT");
  if (!sha.empty()) who += " at git " + sha.substr(0, 12);
  return who;
}

std::filesystem::path config_directory(const CommonOptions& options) {
  if (options.config_path.empty() || options.config_path == "-")
    return std::filesystem::current_path();
  return std::filesystem::absolute(options.config_path).parent_path();
}

// Host lines as they come, each prefixed with its host.
HostLogHandler host_log_printer() {
  auto guard = std::make_shared<std::mutex>();
  return [guard](const HostAddress& host, std::string_view line) {
    std::lock_guard<std::mutex> lock(*guard);
    log::info("[{}] {}", host.text, line);
  };
}

}  // namespace

int run(int argc, char** argv) {
  // On a host, over ssh: the agent speaks the protocol on stdin and stdout.
  if (argc == 2 && std::string_view(argv[1]) == "--agent") return run_agent();
  // A host that closed its connection must be an error value, not a signal.
  ::signal(SIGPIPE, SIG_IGN);

  CLI::App app{k_description};
  CommonOptions options;
  add_common_options(app, options, true);
  FleetRequest request;
  bool accept_new_host_keys = false;
  bool rollback = false;
  bool status = false;
  CodeDeployFlags codedeploy;
  // The flags that set a deploy.* (or target.*) key go into the
  // configuration's flag layer, under its one precedence.
  add_config_flag(app, options, "--via", "deploy.via",
                  "how to reach the hosts: local (default), ssh or codedeploy");
  app.add_option("--artifact", request.artifact,
                 "the artifact: a path, file://, s3:// or http(s):// URL");
  app.add_option("--sha256", request.sha256,
                 "expected sha256 (default: the manifest's beside a local artifact)");
  app.add_option("--release", request.release,
                 "the release label (default: the manifest's, else the file name)");
  add_config_flag(app, options, "--host", "deploy.hosts",
                  "[USER@]HOST[:PORT]; repeat for each host (replaces deploy.hosts)");
  add_config_flag(app, options, "--batch", "deploy.batch",
                  "how many hosts deploy at a time (default 1)")
      ->type_name("N");
  add_config_flag(app, options, "--no-rollback-on-failure", "deploy.rollback_on_failure",
                  "leave the hosts already switched on the new release when one fails");
  app.add_flag("--accept-new-host-keys", accept_new_host_keys,
               "add the key of a host not yet in known_hosts (a changed key is still refused)");
  add_config_flag(app, options, "--lock-timeout", "target.lock_timeout",
                  "how long to wait for another rollout's host locks (default 10m)")
      ->type_name("DUR");
  add_config_flag(app, options, "--presign", "deploy.presign",
                  "s3:// artifacts: hosts fetch through a presigned URL valid this long (1s to "
                  "168h) instead of with their own credentials")
      ->type_name("DUR");
  auto* rollback_flag =
      app.add_flag("--rollback", rollback, "take the whole fleet back (rolling, same rules)");
  app.add_option("--to", request.to, "with --rollback: the kept release to go back to")
      ->needs(rollback_flag);
  app.add_flag("--status", status, "what each host runs now: release, port, health, since when")
      ->excludes(rollback_flag);
  add_config_flag(app, options, "--wait", "deploy.codedeploy.wait",
                  "codedeploy: how long to follow the deployment (default 30m)")
      ->type_name("DUR");
  app.add_flag("--no-wait", codedeploy.no_wait,
               "codedeploy: print the deployment id and exit once CodeDeploy accepted it");
  app.add_flag("--stop-on-timeout", codedeploy.stop_on_timeout,
               "codedeploy: stop the deployment (and roll back) when --wait passes");

  return run_step(
      "request-deploy", app, options, argc, argv, [&](StepContext& context) -> Result<void> {
        auto config = context.load_config();
        if (!config) return config.error();
        auto environment = current_environment();
        auto settings =
            load_deploy_settings(*config, config_directory(context.options), environment);
        if (!settings) return settings.error();
        settings->ssh.accept_new_host_keys = accept_new_host_keys;
        auto presign = presign_lifetime(*config);
        if (!presign) return presign.error();
        if (settings->via == Via::CodeDeploy) {
          if (*presign) {
            return usage_error(config->origin("deploy.presign") +
                               ": deploy.presign: --via codedeploy puts the artifact in the "
                               "revision bundle, which CodeDeploy fetches itself; drop --presign");
          }
          if (!status && !rollback) {
            if (auto resolved = resolve_artifact(request); !resolved) return resolved.error();
          }
          return deploy_through_codedeploy(context, *config, request, codedeploy,
                                           rollback || status);
        }
        // What every host gets: the chosen environment, resolved here.
        auto remote = resolve_remote_config(*config, environment);
        if (!remote) return remote.error();

        request.action = status     ? FleetAction::Status
                         : rollback ? FleetAction::Rollback
                                    : FleetAction::Deploy;
        request.dry_run = context.options.dry_run;
        request.requested_by = requested_by(environment);
        if (request.action == FleetAction::Deploy) {
          if (auto resolved = resolve_artifact(request); !resolved) return resolved.error();
          // An s3:// artifact the hosts fetch without credentials of their own.
          if (*presign) {
            if (auto presigned = presign_for_hosts(*config, **presign, request, *remote);
                !presigned) {
              return presigned.error();
            }
          }
        }

        auto outcome = run_fleet(*settings, *remote, request, host_log_printer());

        // The table: on the terminal (stderr when stdout carries --json),
        // in the step summary, in the result.
        std::string table = format_fleet_table(outcome, request.action);
        (context.options.json ? std::cerr : std::cout) << table << std::flush;
        if (!outcome.hosts.empty())
          ci().add_summary(fleet_summary_markdown(outcome, request.action));
        context.result["hosts"] = fleet_to_json(outcome);
        if (!request.release.empty()) context.result["version"] = request.release;
        if (request.dry_run) context.result["dry_run"] = true;
        if (outcome.error) return *outcome.error;
        return {};
      });
}

}  // namespace switchyard::steps::request_deploy
