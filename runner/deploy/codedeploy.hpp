// request-deploy --via codedeploy: builds the revision bundle, uploads it
// through the S3 store, asks CodeDeploy for a deployment and follows it to
// the end, printing why an instance failed (its lifecycle event, diagnostics
// and log tail) instead of leaving that to the AWS console.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runner/aws/codedeploy.hpp"
#include "runner/core/config.hpp"
#include "runner/core/manifest.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// deploy.codedeploy.* (and the artifact.* keys the bundle upload shares).
struct CodeDeployConfig {
  std::string application;
  std::string deployment_group;
  std::string bundle_store;  // s3://bucket/prefix
  std::string deployment_config;
  std::string file_exists_behavior = "OVERWRITE";
  Duration wait{std::chrono::minutes(30)};
  std::string region;
  std::string endpoint;
  // The S3 store the bundle goes to: artifact.endpoint/region/profile.
  std::string store_endpoint;
  std::string store_region;
  std::string profile;
};

// Reads and checks deploy.codedeploy.* (exit 2 naming the key): application
// and deployment_group are required; bundle_store defaults to artifact.store
// when that is s3://.
Result<CodeDeployConfig> load_codedeploy_config(const Config& config);

struct CodeDeployRequest {
  // The jar: a local path, or a URI any store can fetch (file://, s3://,
  // http(s)://) into `work_dir`.
  std::string artifact;
  std::string sha256;   // expected; "" -> the manifest's
  std::string release;  // "" -> the manifest's version
  // The manifest; nullopt -> the one beside the artifact.
  std::optional<Manifest> manifest;
  bool wait = true;                      // false: --no-wait
  std::optional<Duration> wait_timeout;  // --wait; else deploy.codedeploy.wait
  bool stop_on_timeout = false;
  bool dry_run = false;
  // For the deployment's description; "" -> the manifest's git sha and the
  // CI run URL from the environment (GitHub Actions, Jenkins).
  std::string git_sha;
  std::string ci_run_url;
  // Where the bundle is built (and a URI artifact fetched); "" -> a
  // temporary directory removed afterwards.
  std::filesystem::path work_dir;
  // The poller's first and longest wait (tests shorten them).
  Duration first_poll{std::chrono::seconds(2)};
  Duration max_poll{std::chrono::seconds(15)};
  // For tests: the environment the API client reads (endpoint variables).
  EnvLookup env = process_env;
};

// One instance's result, from BatchGetDeploymentTargets.
struct InstanceResult {
  std::string target_id;
  std::string status;
  std::string failed_event;  // the failing lifecycle event, or ""
  std::string error_code;    // ScriptFailed, ScriptTimedOut, ...
  std::string script_name;
  std::string message;
  std::string log_tail;
};

struct CodeDeployOutcome {
  std::string deployment_id;
  std::string status;  // CodeDeploy's: Created, InProgress, Succeeded, Failed, Stopped
  std::string console_url;
  std::string bundle_uri;  // s3://bucket/key of the revision
  std::string etag;
  std::string version_id;
  std::string rollback_deployment_id;  // the deployment CodeDeploy rolled this one back with
  DeploymentOverview overview;
  std::vector<InstanceResult> instances;
  // How the step ends: 0 succeeded (or --no-wait), 1 failed / timed out, 130
  // interrupted; `message` is the one line to print for anything but 0.
  ExitCode exit_code = ExitCode::Success;
  std::string message;
};

// The whole flow: check the group (BLUE_GREEN is refused, exit 2), build the
// bundle, upload it, CreateDeployment, then (unless --no-wait) poll until the
// deployment ends or the wait passes. Errors before a deployment exists come
// back as an Error (2 config, 3 unavailable, 4 another deployment running);
// once it exists, the outcome carries the exit code.
Result<CodeDeployOutcome> deploy_with_codedeploy(const Config& config,
                                                 const CodeDeployRequest& request);

// The outcome as step outputs: deployment-id, status, console-url, bundle,
// instances (one "id status [event]" line each), rollback-deployment-id.
std::vector<std::pair<std::string, std::string>> codedeploy_outputs(
    const CodeDeployOutcome& outcome);

// The description CreateDeployment gets: release, git sha and CI run URL,
// within CodeDeploy's 255 characters.
std::string deployment_description(std::string_view release, std::string_view git_sha,
                                   std::string_view ci_run_url);

}  // namespace switchyard
