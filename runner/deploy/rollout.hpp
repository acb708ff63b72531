// request-deploy across a fleet (DESIGN.md, "Targets beyond one host"):
// a preflight of every host before any host changes (reachable, host key,
// switchyard version, the configuration accepted, the lock taken and held),
// then `batch` hosts at a time; a failure stops the rollout, hosts not yet
// touched stay as they are and hosts already switched go back to what they
// ran before. The same engine does `--rollback` (the whole fleet back),
// `--status` and `--dry-run`.
//
// Each way of reaching hosts is one function (run_fleet picks it by
// `deploy.via`); CodeDeploy plugs in beside local and ssh.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runner/core/config.hpp"
#include "runner/core/manifest.hpp"
#include "runner/deploy/remote_config.hpp"
#include "runner/deploy/session.hpp"
#include "runner/deploy/transport.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

enum class Via { Local, Ssh, CodeDeploy };

// "local", "ssh" or "codedeploy"; exit 2 for anything else.
Result<Via> parse_via(std::string_view text);

struct DeploySettings {
  Via via = Via::Local;
  std::vector<HostAddress> hosts;  // ssh; local deploys to this machine ("local")
  int batch = 1;
  Duration batch_pause{0};
  bool rollback_on_failure = true;
  Duration lock_timeout{std::chrono::minutes(10)};
  SshSettings ssh;
  std::string identity_key;  // a private key given as env:NAME (a secret)
};

// Reads `deploy.*` (and target.lock_timeout) from `config`. A relative
// known_hosts is relative to `config_directory` (where switchyard.yml is).
Result<DeploySettings> load_deploy_settings(const Config& config,
                                            const std::filesystem::path& config_directory,
                                            const std::map<std::string, std::string>& environment);

enum class FleetAction { Deploy, Rollback, Status };

struct FleetRequest {
  FleetAction action = FleetAction::Deploy;
  std::string artifact;  // a path, file://, s3:// or http(s)://
  std::string sha256;    // empty: the manifest's, else computed for a local file
  std::string release;   // empty: the manifest's, else the file name
  std::string to;        // --rollback --to
  bool dry_run = false;
  std::string requested_by;  // the CI run URL or user@host, and the git sha
  // --presign: the manifest read here, sent with the fetch, since a host
  // cannot read it through a presigned URL (its release then records the
  // app_version).
  std::optional<Manifest> manifest;
};

// Fills the artifact's sha256 and release from the manifest beside a local
// artifact (as switch-traffic does), computing the sha256 when there is none.
Result<void> resolve_artifact(FleetRequest& request);

struct HostResult {
  std::string host;
  std::string before;  // the release live before ("" on a first deploy)
  int before_port = 0;
  // What the service live before reports (its manifest's app_version); ""
  // on a first deploy or when its release recorded none.
  std::string before_app_version;
  std::string after;  // what it runs now
  int after_port = 0;
  // deployed, rolled back, failed, rollback failed, interrupted, unreachable,
  // not touched, would deploy, would roll back, live
  std::string result = "not touched";
  std::string message;  // the one line, for a failure; the plan for --dry-run
  std::string since;    // --status: when the live release went live
  bool healthy = false;
  std::int64_t duration_ms = 0;
  std::vector<std::pair<std::string, std::int64_t>> phases_ms;  // connect, transfer, the switch's
};

struct FleetOutcome {
  std::vector<HostResult> hosts;
  std::optional<Error> error;  // none: every host did what was asked
};

// Runs `request` on the fleet of `settings`, with `config` sent to each host.
FleetOutcome run_fleet(const DeploySettings& settings, const RemoteConfig& config,
                       const FleetRequest& request, const HostLogHandler& on_log);

// The final table, for a terminal and for $GITHUB_STEP_SUMMARY (Markdown).
std::string format_fleet_table(const FleetOutcome& outcome, FleetAction action);
std::string fleet_summary_markdown(const FleetOutcome& outcome, FleetAction action);
// The hosts as the --json result holds them.
boost::json::array fleet_to_json(const FleetOutcome& outcome);

}  // namespace switchyard
