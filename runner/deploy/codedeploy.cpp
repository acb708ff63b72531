#include "runner/deploy/codedeploy.hpp"

#include <algorithm>
#include <random>
#include <thread>

#include "runner/aws/s3_client.hpp"
#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/deploy/bundle.hpp"
#include "runner/store/location.hpp"
#include "runner/store/store.hpp"
#include "runner/util/interrupt.hpp"
#include "runner/util/strings.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_max_description = 255;

// A directory removed when it goes out of scope (unless the caller gave one).
class WorkDirectory {
 public:
  static Result<WorkDirectory> make(const fs::path& given) {
    if (!given.empty()) {
      std::error_code error;
      fs::create_directories(given, error);
      if (error) {
        return failure(given.string() + ": cannot create it (" + error.message() +
                       "); choose a writable work directory");
      }
      return WorkDirectory(given, false);
    }
    std::string pattern = (fs::temp_directory_path() / "switchyard-codedeploy-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return failure(pattern + ": cannot create a temporary directory; check TMPDIR");
    }
    return WorkDirectory(pattern, true);
  }
  ~WorkDirectory() {
    if (m_owned && !m_path.empty()) {
      std::error_code ignored;
      fs::remove_all(m_path, ignored);
    }
  }
  WorkDirectory(WorkDirectory&& other) noexcept
      : m_path(std::exchange(other.m_path, {})), m_owned(other.m_owned) {}
  WorkDirectory& operator=(WorkDirectory&&) = delete;
  const fs::path& path() const { return m_path; }

 private:
  WorkDirectory(fs::path path, bool owned) : m_path(std::move(path)), m_owned(owned) {}
  fs::path m_path;
  bool m_owned;
};

std::string ci_run_url_from_environment(const EnvLookup& lookup) {
  auto env = [&](const char* name) -> std::string {
    return lookup ? lookup(name).value_or("") : "";
  };
  if (!env("GITHUB_RUN_ID").empty() && !env("GITHUB_REPOSITORY").empty()) {
    std::string server =
        env("GITHUB_SERVER_URL").empty() ? "https://github.com" : env("GITHUB_SERVER_URL");
    return server + "/" + env("GITHUB_REPOSITORY") + "/actions/runs/" + env("GITHUB_RUN_ID");
  }
  return env("BUILD_URL");  // Jenkins
}

// The jar and its manifest: fetched when `artifact` is a URI, else read
// beside the path; a given manifest, sha256 or release wins.
struct ResolvedArtifact {
  fs::path jar;
  Manifest manifest;
};

Result<ResolvedArtifact> resolve_artifact(const CodeDeployRequest& request,
                                          const CodeDeployConfig& settings,
                                          const fs::path& work_dir) {
  ResolvedArtifact out;
  std::optional<Manifest> manifest = request.manifest;
  if (request.artifact.find("://") != std::string::npos) {
    StoreOptions store;
    store.endpoint = settings.store_endpoint;
    store.region = settings.store_region;
    store.profile = settings.profile;
    auto fetched = fetch_artifact(request.artifact, work_dir / "artifact", request.sha256, store);
    if (!fetched) return fetched.error();
    out.jar = fetched->path;
    if (!manifest) manifest = fetched->manifest;
    if (manifest && manifest->sha256.empty()) manifest->sha256 = fetched->sha256;
  } else {
    out.jar = request.artifact;
    if (!fs::is_regular_file(out.jar)) {
      return usage_error(request.artifact +
                         ": no such file; give the jar build-jar made "
                         "(--artifact)");
    }
    if (!manifest && fs::exists(manifest_path_for(out.jar))) {
      auto read = read_manifest(manifest_path_for(out.jar));
      if (!read) return read.error();
      manifest = *read;
    }
  }
  if (!manifest) {
    return usage_error(request.artifact +
                       ": no manifest beside it; build it with switchyard-build-jar, which writes "
                       "<jar>.manifest.json");
  }
  out.manifest = *manifest;
  if (!request.sha256.empty()) {
    if (!out.manifest.sha256.empty() && out.manifest.sha256 != request.sha256) {
      return usage_error("--sha256 " + request.sha256 + ": the manifest says " +
                         out.manifest.sha256 + "; give the sha256 of this artifact");
    }
    out.manifest.sha256 = request.sha256;
  }
  if (out.manifest.sha256.empty()) {
    return usage_error(request.artifact +
                       ": no sha256 in the manifest and no --sha256; the "
                       "instances verify the jar with it");
  }
  if (!request.release.empty()) out.manifest.version = request.release;
  if (out.manifest.file.empty()) out.manifest.file = out.jar.filename().string();
  return out;
}

// Uploads the bundle through the S3 store (the one place that uses the store
// API) and reads back the key, ETag and version id CodeDeploy checks.
Result<CodeDeployRevision> upload_bundle(const Bundle& bundle, const Manifest& jar_manifest,
                                         const CodeDeployConfig& settings) {
  StoreOptions store;
  store.uri = settings.bundle_store;
  store.endpoint = settings.store_endpoint;
  store.region = settings.store_region;
  store.profile = settings.profile;
  PushRequest push;
  push.file = bundle.path;
  push.manifest.app = jar_manifest.app;
  push.manifest.version = jar_manifest.version;
  push.manifest.app_version = jar_manifest.app_version;
  push.manifest.git_sha = jar_manifest.git_sha;
  push.manifest.branch = jar_manifest.branch;
  push.manifest.built_at = jar_manifest.built_at;
  push.manifest.file = bundle.path.filename().string();
  push.manifest.size = bundle.size;
  auto pushed = push_artifact(push, store);
  if (!pushed) {
    // The store's refusal speaks of push-artifact's --force; here the cure
    // is a new release label.
    if (pushed.error().message.find("a different artifact is already stored") !=
        std::string::npos) {
      return usage_error(settings.bundle_store +
                         ": a different revision bundle is already stored "
                         "for release " +
                         jar_manifest.version +
                         " (the jar or the configuration changed); give this build its own "
                         "release label (--release)");
    }
    return pushed.error();
  }
  if (pushed->already_present) {
    log::info("{}: the same bundle is already stored; reusing it", pushed->artifact_uri);
  }

  auto location = parse_location(pushed->artifact_uri);
  if (!location) return location.error();
  CodeDeployRevision revision;
  revision.bucket = location->bucket;
  revision.key = location->key;
  S3Settings s3;
  s3.endpoint = settings.store_endpoint;
  s3.region = settings.store_region;
  s3.profile = settings.profile;
  auto client = S3Client::connect(s3);
  if (!client) return client.error();
  auto object = client->head_object(revision.bucket, revision.key);
  if (!object) return object.error();
  if (!*object) {
    return unavailable(pushed->artifact_uri +
                       ": not found right after the upload; check the store is consistent");
  }
  revision.etag = (*object)->etag;
  revision.etag.erase(std::remove(revision.etag.begin(), revision.etag.end(), '"'),
                      revision.etag.end());
  revision.version_id = (*object)->version_id;
  return revision;
}

// Names the deployment that holds the group, when CodeDeploy can tell.
std::string running_deployment(CodeDeployClient& client, const CodeDeployConfig& settings) {
  auto group = client.get_deployment_group(settings.application, settings.deployment_group);
  if (group && !group->last_attempted_deployment_id.empty()) {
    const std::string& status = group->last_attempted_status;
    if (status == "Created" || status == "Queued" || status == "InProgress" || status == "Baking" ||
        status == "Ready") {
      return group->last_attempted_deployment_id;
    }
  }
  auto running = client.list_deployments(settings.application, settings.deployment_group,
                                         {"Created", "Queued", "InProgress", "Baking", "Ready"});
  if (running && !running->empty()) return running->front();
  return "";
}

std::string overview_line(const DeploymentOverview& overview) {
  return "Pending " + std::to_string(overview.pending) + ", InProgress " +
         std::to_string(overview.in_progress) + ", Succeeded " +
         std::to_string(overview.succeeded) + ", Failed " + std::to_string(overview.failed) +
         ", Skipped " + std::to_string(overview.skipped);
}

std::string first_line(std::string_view text) {
  auto begin = text.find_first_not_of("\r\n \t");
  if (begin == std::string_view::npos) return "";
  text.remove_prefix(begin);
  return std::string(text.substr(0, text.find_first_of("\r\n")));
}

// A waiting period that starts at `first`, grows by half each time up to
// `max`, jittered between 80% and 100% so many pipelines do not poll in step.
class PollBackoff {
 public:
  PollBackoff(Duration first, Duration max) : m_next(first), m_max(max) {}
  Duration next() {
    static thread_local std::mt19937_64 random{std::random_device{}()};
    auto step = m_next.count();
    std::uniform_int_distribution<Duration::rep> pick(step * 4 / 5, step);
    m_next = std::min(m_max, Duration(step + step / 2));
    return Duration(pick(random));
  }
  // After a ThrottlingException: slow down to the longest wait.
  void throttled() { m_next = m_max; }

 private:
  Duration m_next;
  Duration m_max;
};

void sleep_unless_interrupted(Duration wait) {
  auto until = std::chrono::steady_clock::now() + wait;
  while (!interrupted()) {
    auto left = until - std::chrono::steady_clock::now();
    if (left <= Duration::zero()) return;
    std::this_thread::sleep_for(std::min<Duration>(std::chrono::milliseconds(100),
                                                   std::chrono::duration_cast<Duration>(left)));
  }
}

// The failed instances: their failing event, diagnostics and log tail,
// printed in a group each and added to the step summary.
Result<std::vector<InstanceResult>> failed_instances(CodeDeployClient& client,
                                                     const std::string& deployment_id) {
  auto ids = client.list_deployment_targets(deployment_id, {"Failed"});
  if (!ids) return ids.error();
  auto targets = client.batch_get_deployment_targets(deployment_id, *ids);
  if (!targets) return targets.error();
  std::vector<InstanceResult> out;
  for (const auto& target : *targets) {
    InstanceResult result;
    result.target_id = target.target_id;
    result.status = target.status;
    if (const LifecycleEventInfo* event = target.failed_event()) {
      result.failed_event = event->name;
      result.error_code = event->error_code;
      result.script_name = event->script_name;
      result.message = event->message;
      result.log_tail = event->log_tail;
    }
    out.push_back(std::move(result));
  }
  return out;
}

std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += "<br>";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out;
}

void report_failed_instances(const std::vector<InstanceResult>& instances,
                             const std::string& deployment_id) {
  std::string summary = "### CodeDeploy " + deployment_id + ": failed instances\n\n" +
                        "| instance | event | error | script | message |\n|---|---|---|---|---|\n";
  for (const auto& instance : instances) {
    {
      CiGroup group(instance.target_id + ": " +
                    (instance.failed_event.empty() ? instance.status : instance.failed_event) +
                    " failed");
      // The log tail is the hook's own output: no workflow command in it may
      // take effect.
      CiUntrustedOutput untrusted;
      log::error("{}: {} failed ({}, script {}): {}", instance.target_id, instance.failed_event,
                 instance.error_code, instance.script_name, instance.message);
      std::string_view tail = instance.log_tail;
      while (!tail.empty()) {
        auto end = tail.find('\n');
        log::info("{} | {}", instance.target_id, tail.substr(0, end));
        if (end == std::string_view::npos) break;
        tail.remove_prefix(end + 1);
      }
    }
    summary += "| " + markdown_cell(instance.target_id) + " | " +
               markdown_cell(instance.failed_event) + " | " + markdown_cell(instance.error_code) +
               " | " + markdown_cell(instance.script_name) + " | " +
               markdown_cell(instance.message) + " |\n";
    if (!instance.log_tail.empty()) {
      summary += "\n<details><summary>" + markdown_cell(instance.target_id) +
                 " log tail</summary>\n\n```\n" + instance.log_tail + "\n```\n</details>\n\n";
    }
  }
  ci().add_summary(summary);
}

// Stops the deployment (CodeDeploy rolls the instances back), saying so.
void stop_with_rollback(CodeDeployClient& client, const std::string& deployment_id) {
  auto stopped = client.stop_deployment(deployment_id, true);
  if (stopped) {
    log::warn("{}: StopDeployment with autoRollbackEnabled=true: {} {}", deployment_id,
              stopped->status, stopped->status_message);
  } else {
    log::error("{}", stopped.error().message);
  }
}

// A deployment that ended Failed or Stopped: why, from the failed
// instances' diagnostics, and whether CodeDeploy rolled it back.
CodeDeployOutcome explain_failure(CodeDeployClient& client, CodeDeployOutcome outcome,
                                  const DeploymentInfo& info) {
  outcome.exit_code = ExitCode::Failure;
  std::string rollback;
  if (!info.rollback_deployment_id.empty()) {
    rollback = "; CodeDeploy rolled it back with deployment " + info.rollback_deployment_id;
    log::warn("{}: CodeDeploy rolled back with deployment {}{}", outcome.deployment_id,
              info.rollback_deployment_id,
              info.rollback_message.empty() ? "" : " (" + info.rollback_message + ")");
  }
  auto instances = failed_instances(client, outcome.deployment_id);
  if (instances) {
    outcome.instances = *instances;
    report_failed_instances(outcome.instances, outcome.deployment_id);
  } else {
    log::warn("{}", instances.error().message);
  }
  std::string why =
      info.error_code.empty() ? "" : " (" + info.error_code + ": " + info.error_message + ")";
  const InstanceResult* first = nullptr;
  for (const auto& instance : outcome.instances) {
    if (!instance.failed_event.empty()) {
      first = &instance;
      break;
    }
  }
  if (first != nullptr) {
    // The log tail is the hook's raw output; its first line goes into a
    // one-line message.
    std::string tail = one_line(first_line(first->log_tail));
    outcome.message = outcome.deployment_id + ": " + info.status + " on " + first->target_id +
                      " in " + first->failed_event +
                      (tail.empty() ? ": " + first->message : ": " + tail) + rollback + "; see " +
                      outcome.console_url;
  } else {
    outcome.message = outcome.deployment_id + ": " + info.status + why + rollback + "; see " +
                      outcome.console_url;
  }
  return outcome;
}

// Follows the deployment until it ends, the wait passes or Ctrl-C.
CodeDeployOutcome follow_deployment(CodeDeployClient& client, CodeDeployOutcome outcome,
                                    const CodeDeployRequest& request, Duration wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  PollBackoff backoff(request.first_poll, request.max_poll);
  std::string last_status;
  std::optional<DeploymentOverview> last_overview;
  int throttled_seen = client.throttled();
  while (true) {
    if (interrupted()) {
      stop_with_rollback(client, outcome.deployment_id);
      outcome.exit_code = ExitCode::Interrupted;
      outcome.message = outcome.deployment_id +
                        ": interrupted; asked CodeDeploy to stop the deployment and roll back (" +
                        outcome.console_url + ")";
      return outcome;
    }
    auto info = client.get_deployment(outcome.deployment_id);
    if (!info) {
      if (interrupted()) continue;
      outcome.exit_code =
          info.error().code == ExitCode::Success ? ExitCode::Failure : info.error().code;
      outcome.message = info.error().message + " (the deployment " + outcome.deployment_id +
                        " may still be running: " + outcome.console_url + ")";
      return outcome;
    }
    outcome.status = info->status;
    outcome.overview = info->overview;
    outcome.rollback_deployment_id = info->rollback_deployment_id;
    if (info->status != last_status) {
      log::info("{}: {}", outcome.deployment_id, info->status);
      last_status = info->status;
    }
    if (!last_overview || *last_overview != info->overview) {
      log::info("{}: {}", outcome.deployment_id, overview_line(info->overview));
      last_overview = info->overview;
    }
    if (info->finished()) {
      if (info->status == "Succeeded") return outcome;
      return explain_failure(client, std::move(outcome), *info);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      if (request.stop_on_timeout) stop_with_rollback(client, outcome.deployment_id);
      outcome.exit_code = ExitCode::Failure;
      outcome.message =
          outcome.deployment_id + ": still " + info->status + " after " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(wait).count()) + "s; " +
          (request.stop_on_timeout ? "stopped it (--stop-on-timeout), CodeDeploy rolls back; "
                                   : "it keeps running in AWS (--stop-on-timeout stops it); ") +
          "follow it at " + outcome.console_url;
      return outcome;
    }
    if (client.throttled() != throttled_seen) {
      throttled_seen = client.throttled();
      backoff.throttled();
    }
    auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
    sleep_unless_interrupted(std::min(backoff.next(), std::max(left, Duration::zero())));
  }
}

}  // namespace

Result<CodeDeployConfig> load_codedeploy_config(const Config& config) {
  CodeDeployConfig out;
  SWITCHYARD_READ(out.application, config.string("deploy.codedeploy.application"));
  SWITCHYARD_READ(out.deployment_group, config.string("deploy.codedeploy.deployment_group"));
  SWITCHYARD_READ(out.bundle_store, config.string("deploy.codedeploy.bundle_store"));
  SWITCHYARD_READ(out.deployment_config, config.string("deploy.codedeploy.deployment_config"));
  SWITCHYARD_READ(out.file_exists_behavior,
                  config.string("deploy.codedeploy.file_exists_behavior"));
  SWITCHYARD_READ(out.wait, config.duration("deploy.codedeploy.wait"));
  SWITCHYARD_READ(out.region, config.string("deploy.codedeploy.region"));
  SWITCHYARD_READ(out.endpoint, config.string("deploy.codedeploy.endpoint"));
  SWITCHYARD_READ(out.store_endpoint, config.string("artifact.endpoint"));
  SWITCHYARD_READ(out.store_region, config.string("artifact.region"));
  SWITCHYARD_READ(out.profile, config.string("artifact.profile"));
  if (out.region.empty()) out.region = out.store_region;

  for (auto [key, value] : {std::pair{"deploy.codedeploy.application", &out.application},
                            {"deploy.codedeploy.deployment_group", &out.deployment_group}}) {
    if (value->empty()) {
      return usage_error(std::string(key) + ": not set; name the CodeDeploy " +
                         (value == &out.application ? "application" : "deployment group") +
                         " in switchyard.yml (or " + config_variable_name(key) + ")");
    }
  }
  if (out.bundle_store.empty()) {
    std::string store;
    SWITCHYARD_READ(store, config.string("artifact.store"));
    if (!store.starts_with("s3://")) {
      return usage_error(
          "deploy.codedeploy.bundle_store: not set and artifact.store is not s3://; set it to "
          "s3://bucket/prefix (CodeDeploy fetches revisions from S3)");
    }
    out.bundle_store = store;
  } else if (!out.bundle_store.starts_with("s3://")) {
    return usage_error(config.origin("deploy.codedeploy.bundle_store") +
                       ": deploy.codedeploy.bundle_store: " + out.bundle_store +
                       " is not s3://bucket/prefix; CodeDeploy fetches revisions from S3");
  }
  if (auto uri = parse_location(out.bundle_store); !uri) return uri.error();
  return out;
}

std::string deployment_description(std::string_view release, std::string_view git_sha,
                                   std::string_view ci_run_url) {
  std::string out = "switchyard " + std::string(release);
  if (!git_sha.empty()) out += " (git " + std::string(git_sha.substr(0, 12)) + ")";
  if (!ci_run_url.empty()) out += " " + std::string(ci_run_url);
  if (out.size() > k_max_description) out.resize(k_max_description);
  return out;
}

Result<CodeDeployOutcome> deploy_with_codedeploy(const Config& config,
                                                 const CodeDeployRequest& request) {
  auto settings = load_codedeploy_config(config);
  if (!settings) return settings.error();
  auto work_dir = WorkDirectory::make(request.work_dir);
  if (!work_dir) return work_dir.error();

  // The jar and its manifest
  auto artifact = resolve_artifact(request, *settings, work_dir->path());
  if (!artifact) return artifact.error();
  const Manifest& manifest = artifact->manifest;

  // The deployment group: it exists, and it switches in place
  CodeDeploySettings api;
  api.endpoint = settings->endpoint;
  api.region = settings->region;
  api.profile = settings->profile;
  api.env = request.env;
  auto client = CodeDeployClient::connect(api);
  if (!client) return client.error();
  auto group = client->get_deployment_group(settings->application, settings->deployment_group);
  if (!group) return group.error();
  if (group->deployment_type == "BLUE_GREEN") {
    return usage_error("deploy.codedeploy.deployment_group " + settings->deployment_group +
                       ": a BLUE_GREEN group replaces instances, but switchyard switches on the "
                       "instance; use an IN_PLACE group (behind the load balancer it works with "
                       "zero downtime)");
  }

  // The revision bundle
  auto input = bundle_input_from(config, artifact->jar, manifest);
  if (!input) return input.error();
  fs::path zip = work_dir->path() / (manifest.app + "-" + manifest.version + ".codedeploy.zip");
  CodeDeployOutcome outcome;
  if (request.dry_run) {
    outcome.status = "DryRun";
    outcome.message = "would upload a revision of " + manifest.app + " " + manifest.version +
                      " to " + settings->bundle_store + " and deploy it to " +
                      settings->application + "/" + settings->deployment_group;
    log::info("{}", outcome.message);
    return outcome;
  }
  auto bundle = build_bundle(*input, zip);
  if (!bundle) return bundle.error();
  auto revision = upload_bundle(*bundle, manifest, *settings);
  if (!revision) return revision.error();
  outcome.bundle_uri = s3_uri(revision->bucket, revision->key);
  outcome.etag = revision->etag;
  outcome.version_id = revision->version_id;

  // The deployment
  CreateDeploymentInput create;
  create.application = settings->application;
  create.deployment_group = settings->deployment_group;
  create.revision = *revision;
  create.deployment_config = settings->deployment_config;
  create.file_exists_behavior = settings->file_exists_behavior;
  create.description = deployment_description(
      manifest.version, request.git_sha.empty() ? manifest.git_sha : request.git_sha,
      request.ci_run_url.empty() ? ci_run_url_from_environment(request.env) : request.ci_run_url);
  CodeDeployApiError api_error;
  auto created = client->create_deployment(create, &api_error);
  if (!created) {
    if (api_error.type == "DeploymentLimitExceededException") {
      std::string running = running_deployment(*client, *settings);
      return Error{
          ExitCode::Locked,
          settings->application + "/" + settings->deployment_group +
              ": another deployment is running" + (running.empty() ? "" : " (" + running + ")") +
              "; wait for it to finish or stop it" +
              (running.empty() ? ""
                               : " (" + codedeploy_console_url(client->region(), running) + ")")};
    }
    return created.error();
  }
  outcome.deployment_id = *created;
  outcome.status = "Created";
  outcome.console_url = codedeploy_console_url(client->region(), outcome.deployment_id);
  log::info("{}: created for {} {} ({})", outcome.deployment_id, manifest.app, manifest.version,
            outcome.console_url);
  if (!request.wait) return outcome;

  return follow_deployment(*client, std::move(outcome), request,
                           request.wait_timeout.value_or(settings->wait));
}

std::vector<std::pair<std::string, std::string>> codedeploy_outputs(
    const CodeDeployOutcome& outcome) {
  std::string instances;
  for (const auto& instance : outcome.instances) {
    instances += instance.target_id + " " + instance.status +
                 (instance.failed_event.empty() ? "" : " " + instance.failed_event) + "\n";
  }
  return {{"deployment-id", outcome.deployment_id},
          {"status", outcome.status},
          {"console-url", outcome.console_url},
          {"bundle", outcome.bundle_uri},
          {"instances", instances},
          {"rollback-deployment-id", outcome.rollback_deployment_id}};
}

}  // namespace switchyard
