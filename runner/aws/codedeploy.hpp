// A small AWS CodeDeploy client: the JSON 1.1 calls request-deploy --via
// codedeploy makes (CreateDeployment, GetDeployment, GetDeploymentGroup,
// ListDeployments, ListDeploymentTargets, BatchGetDeploymentTargets,
// StopDeployment), signed with SigV4 (service `codedeploy`) with credentials
// from the same chain as S3. Member names and types follow botocore's model
// of the service (botocore/data/codedeploy/2014-10-06/service-2.json); the
// test stand-in validates every request against it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "runner/aws/credentials.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// BatchGetDeploymentTargets takes at most this many target ids per call.
inline constexpr std::size_t k_codedeploy_target_batch = 25;

struct CodeDeploySettings {
  // deploy.codedeploy.endpoint; "" -> AWS_ENDPOINT_URL_CODEDEPLOY, then
  // AWS_ENDPOINT_URL, then https://codedeploy.<region>.amazonaws.com.
  std::string endpoint;
  std::string region;   // "" -> AWS_REGION, AWS_DEFAULT_REGION, the profile's
  std::string profile;  // "" -> AWS_PROFILE, "default"
  std::string ca_file;
  EnvLookup env = process_env;
  // How often a ThrottlingException answer is retried before giving up.
  int throttle_attempts = 8;
  Duration first_throttle_backoff{std::chrono::seconds(1)};
  Duration max_throttle_backoff{std::chrono::seconds(15)};
};

// Where the endpoint comes from, in the order the AWS CLI v2 reads them.
std::string codedeploy_endpoint(const CodeDeploySettings& settings, std::string_view region);

// The AWS console page of a deployment.
std::string codedeploy_console_url(std::string_view region, std::string_view deployment_id);

// An answer that is an AWS error: the short type ("DeploymentLimitExceededException")
// and AWS's message.
struct CodeDeployApiError {
  long http_status = 0;
  std::string type;
  std::string message;
};

// The short error type from a JSON 1.1 error answer's `__type` (which may be
// "com.amazonaws.codedeploy#ThrottlingException") or the x-amzn-ErrorType
// header ("ThrottlingException:http://internal.amazon.com/...").
std::string codedeploy_error_type(std::string_view type_field);

// Reads an error answer: the type from the JSON body's `__type`, else from
// the x-amzn-ErrorType header, and AWS's message, both with control
// characters escaped (one_line) since they are quoted in messages.
CodeDeployApiError parse_codedeploy_error(long http_status, std::string_view body,
                                          std::string_view error_type_header);

// Turns an error answer to `operation` into one line that says what to do,
// with the documented exit code: a missing application, group, revision or
// deployment configuration is 2 and names the key that set it; AccessDenied
// is 3 naming the IAM action; a bad signature or skewed clock is 3; an
// exhausted throttle is 3; anything else is 1.
Error explain_codedeploy_error(std::string_view operation, const CodeDeployApiError& error,
                               std::string_view credential_source);

struct CodeDeployRevision {
  std::string bucket;
  std::string key;
  std::string etag;        // without quotes
  std::string version_id;  // "" when the bucket is not versioned
};

struct CreateDeploymentInput {
  std::string application;
  std::string deployment_group;
  CodeDeployRevision revision;
  std::string description;
  std::string deployment_config;     // "" -> the group's
  std::string file_exists_behavior;  // DISALLOW | OVERWRITE | RETAIN; "" -> DISALLOW
};

struct DeploymentOverview {
  std::int64_t pending = 0;
  std::int64_t in_progress = 0;
  std::int64_t succeeded = 0;
  std::int64_t failed = 0;
  std::int64_t skipped = 0;
  std::int64_t ready = 0;
  bool operator==(const DeploymentOverview&) const = default;
};

struct DeploymentInfo {
  std::string deployment_id;
  std::string status;  // Created Queued InProgress Baking Succeeded Failed Stopped Ready
  std::string error_code;
  std::string error_message;
  DeploymentOverview overview;
  std::string rollback_deployment_id;  // the deployment that rolled this one back
  std::string rollback_triggering_id;  // set on a rollback deployment itself
  std::string rollback_message;
  bool finished() const {
    return status == "Succeeded" || status == "Failed" || status == "Stopped";
  }
};

struct DeploymentGroupInfo {
  std::string deployment_group_id;
  std::string deployment_type;  // IN_PLACE | BLUE_GREEN
  std::string compute_platform;
  std::string last_attempted_deployment_id;
  std::string last_attempted_status;
};

struct LifecycleEventInfo {
  std::string name;  // ApplicationStop BeforeInstall ... ValidateService
  std::string status;
  std::string error_code;  // Success ScriptMissing ScriptNotExecutable ScriptTimedOut ScriptFailed
                           // UnknownError
  std::string script_name;
  std::string message;
  std::string log_tail;
};

struct DeploymentTargetInfo {
  std::string target_id;
  std::string target_arn;
  std::string status;
  std::vector<LifecycleEventInfo> lifecycle_events;
  // The first lifecycle event that failed, if any.
  const LifecycleEventInfo* failed_event() const;
};

struct StopDeploymentOutput {
  std::string status;  // Pending | Succeeded
  std::string status_message;
};

class CodeDeployClient {
 public:
  // Resolves the region, the endpoint and credentials (the standard chain).
  // Exit 3 when no credentials are found, 2 for a bad endpoint or no region.
  static Result<CodeDeployClient> connect(const CodeDeploySettings& settings);

  // One call: `input` as the JSON body, the output object back. Retries
  // ThrottlingException with jittered backoff, and a transport failure when
  // the call is idempotent; an error answer becomes explain_codedeploy_error,
  // and `api_error` (when given) receives it so callers can tell types apart.
  Result<boost::json::object> call(std::string_view operation, const boost::json::object& input,
                                   CodeDeployApiError* api_error = nullptr);

  Result<std::string> create_deployment(const CreateDeploymentInput& input,
                                        CodeDeployApiError* api_error = nullptr);
  Result<DeploymentInfo> get_deployment(const std::string& deployment_id);
  Result<DeploymentGroupInfo> get_deployment_group(const std::string& application,
                                                   const std::string& deployment_group);
  // Every page; `statuses` empty means all.
  Result<std::vector<std::string>> list_deployments(const std::string& application,
                                                    const std::string& deployment_group,
                                                    const std::vector<std::string>& statuses);
  // Every page; `statuses` (TargetStatus filter) empty means all.
  Result<std::vector<std::string>> list_deployment_targets(
      const std::string& deployment_id, const std::vector<std::string>& statuses = {});
  // In batches of k_codedeploy_target_batch.
  Result<std::vector<DeploymentTargetInfo>> batch_get_deployment_targets(
      const std::string& deployment_id, const std::vector<std::string>& target_ids);
  Result<StopDeploymentOutput> stop_deployment(const std::string& deployment_id,
                                               bool auto_rollback_enabled);

  const std::string& region() const;
  const std::string& endpoint() const;
  const std::string& credential_source() const;
  // How many ThrottlingException answers this client has seen (the poller
  // slows down when it grows).
  int throttled() const;

  ~CodeDeployClient();
  CodeDeployClient(CodeDeployClient&&) noexcept;
  CodeDeployClient& operator=(CodeDeployClient&&) noexcept;

 private:
  struct State;
  explicit CodeDeployClient(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

// Parses the `deploymentInfo` / `deploymentTargets[]` / `deploymentGroupInfo`
// members of the answers (exposed for unit tests and the fuzz target). Every
// text they keep is one line (control characters escaped) except a lifecycle
// event's log tail, which is the hook's own output and printed as such.
DeploymentInfo parse_deployment_info(const boost::json::object& info);
DeploymentTargetInfo parse_deployment_target(const boost::json::object& target);
DeploymentGroupInfo parse_deployment_group_info(const boost::json::object& info);

// The JSON body of CreateDeployment for `input` (exposed for unit tests).
boost::json::object create_deployment_body(const CreateDeploymentInput& input);

}  // namespace switchyard
