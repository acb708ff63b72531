#include "runner/aws/codedeploy.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <limits>
#include <thread>

#include "runner/aws/sigv4.hpp"
#include "runner/core/log.hpp"
#include "runner/net/http.hpp"
#include "runner/util/interrupt.hpp"
#include "runner/util/strings.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

constexpr std::string_view k_target_prefix = "CodeDeploy_20141006.";
constexpr std::string_view k_content_type = "application/x-amz-json-1.1";

std::string string_member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_string()) return "";
  return std::string(value->get_string());
}

// A count (deploymentOverview's). JSON numbers have no integer type, so one
// may come as a double, or as an unsigned beyond int64; a number that is no
// int64 reads as 0, like a missing one (converting it would be undefined).
std::int64_t integer_member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr) return 0;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64()) {
    auto number = value->get_uint64();
    return number <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? static_cast<std::int64_t>(number)
               : 0;
  }
  if (value->is_double()) {
    // 2^63 exactly is the first double past int64's range.
    constexpr double k_past_int64 = 9223372036854775808.0;
    double number = value->get_double();
    if (std::isfinite(number) && number > -k_past_int64 && number < k_past_int64)
      return static_cast<std::int64_t>(number);
  }
  return 0;
}

// A member quoted in messages and logs: AWS's text, with any control
// character escaped so that no answer can break a line (one_line).
std::string text_member(const json::object& object, std::string_view name) {
  return one_line(string_member(object, name));
}

const json::object* object_member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_object() ? &value->get_object() : nullptr;
}

std::vector<std::string> string_list_member(const json::object& object, std::string_view name) {
  std::vector<std::string> out;
  const json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_array()) return out;
  for (const auto& item : value->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

// Calls that change nothing may be sent again after a lost answer; the
// others (CreateDeployment, StopDeployment) only after an answer that says
// the call was not processed (throttling).
bool idempotent(std::string_view operation) {
  return operation.starts_with("Get") || operation.starts_with("List") ||
         operation.starts_with("BatchGet");
}

bool is_throttle(std::string_view type) {
  return type == "ThrottlingException" || type == "Throttling" ||
         type == "TooManyRequestsException" || type == "RequestLimitExceeded";
}

void sleep_unless_interrupted(Duration wait) {
  auto until = std::chrono::steady_clock::now() + wait;
  while (!interrupted() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<Duration>(
        std::chrono::milliseconds(100),
        std::chrono::duration_cast<Duration>(until - std::chrono::steady_clock::now())));
  }
}

}  // namespace

std::string codedeploy_endpoint(const CodeDeploySettings& settings, std::string_view region) {
  if (!settings.endpoint.empty()) return settings.endpoint;
  if (settings.env) {
    for (const char* name : {"AWS_ENDPOINT_URL_CODEDEPLOY", "AWS_ENDPOINT_URL"}) {
      if (auto value = settings.env(name); value && !value->empty()) return *value;
    }
  }
  return "https://codedeploy." + std::string(region) + ".amazonaws.com";
}

std::string codedeploy_console_url(std::string_view region, std::string_view deployment_id) {
  return "https://" + std::string(region) +
         ".console.aws.amazon.com/codesuite/codedeploy/deployments/" + std::string(deployment_id) +
         "?region=" + std::string(region);
}

std::string codedeploy_error_type(std::string_view type_field) {
  std::string_view type = type_field;
  if (auto hash = type.rfind('#'); hash != std::string_view::npos) type.remove_prefix(hash + 1);
  if (auto colon = type.find(':'); colon != std::string_view::npos) type = type.substr(0, colon);
  return std::string(type);
}

CodeDeployApiError parse_codedeploy_error(long http_status, std::string_view body,
                                          std::string_view error_type_header) {
  CodeDeployApiError error;
  error.http_status = http_status;
  boost::system::error_code parse_error;
  json::value answer = json::parse(body, parse_error);
  if (!parse_error && answer.is_object()) {
    error.type = one_line(codedeploy_error_type(string_member(answer.get_object(), "__type")));
    error.message = text_member(answer.get_object(), "message");
    if (error.message.empty()) error.message = text_member(answer.get_object(), "Message");
  }
  if (error.type.empty()) error.type = one_line(codedeploy_error_type(error_type_header));
  return error;
}

Error explain_codedeploy_error(std::string_view operation, const CodeDeployApiError& error,
                               std::string_view credential_source) {
  const std::string subject = "codedeploy " + std::string(operation);
  const std::string& type = error.type;
  std::string quoted = error.message.empty() ? type : type + ": " + error.message;
  auto message_has = [&](std::string_view text) {
    return error.message.find(text) != std::string::npos;
  };
  if (type == "ApplicationDoesNotExistException" || type == "InvalidApplicationNameException" ||
      type == "ApplicationNameRequiredException") {
    return usage_error(subject + ": " + quoted +
                       "; check deploy.codedeploy.application (the CodeDeploy application's "
                       "name) or create the application");
  }
  if (type == "DeploymentGroupDoesNotExistException" ||
      type == "InvalidDeploymentGroupNameException" ||
      type == "DeploymentGroupNameRequiredException") {
    return usage_error(subject + ": " + quoted +
                       "; check deploy.codedeploy.deployment_group or create the group in the "
                       "application");
  }
  if (type == "InvalidRevisionException" || type == "RevisionDoesNotExistException" ||
      type == "RevisionRequiredException") {
    return usage_error(subject + ": " + quoted +
                       "; check deploy.codedeploy.bundle_store (the bucket must be in the "
                       "deployment's region and readable by the instances)");
  }
  if (type == "DeploymentConfigDoesNotExistException" ||
      type == "InvalidDeploymentConfigNameException") {
    return usage_error(subject + ": " + quoted +
                       "; check deploy.codedeploy.deployment_config (e.g. "
                       "CodeDeployDefault.OneAtATime)");
  }
  if (type == "InvalidFileExistsBehaviorException") {
    return usage_error(subject + ": " + quoted +
                       "; set deploy.codedeploy.file_exists_behavior to DISALLOW, OVERWRITE or "
                       "RETAIN");
  }
  if (type == "DeploymentLimitExceededException") {
    return {ExitCode::Locked,
            subject + ": " + quoted +
                "; another deployment is running in the group: wait for it or stop it"};
  }
  if (type == "AccessDeniedException" || type == "UnauthorizedOperation" ||
      (error.http_status == 403 && type.empty())) {
    return unavailable(subject + ": access denied for the credentials from " +
                       std::string(credential_source) + "; grant codedeploy:" +
                       std::string(operation) + " on the application's deployment group to that " +
                       "identity" + (error.message.empty() ? "" : " (" + error.message + ")"));
  }
  if (type == "RequestTimeTooSkewed" || type == "RequestExpired" ||
      (type == "InvalidSignatureException" &&
       (message_has("expired") || message_has("not yet current") ||
        message_has("Signature expired")))) {
    return unavailable(subject + ": " + quoted +
                       "; this machine's clock is too far from AWS's: fix the clock (timedatectl / "
                       "ntp)");
  }
  if (type == "InvalidSignatureException" || type == "UnrecognizedClientException" ||
      type == "IncompleteSignatureException" || type == "ExpiredTokenException" ||
      type == "InvalidClientTokenId" || type == "MissingAuthenticationTokenException") {
    return unavailable(subject + ": " + quoted + "; the credentials from " +
                       std::string(credential_source) +
                       " were refused: check the access key, secret and session token");
  }
  if (is_throttle(type)) {
    return unavailable(subject + ": still throttled after retries (" + quoted +
                       "); try again later or poll less often");
  }
  if (type == "DeploymentAlreadyCompletedException") {
    return failure(subject + ": " + quoted + "; the deployment had already finished");
  }
  std::string status = "HTTP " + std::to_string(error.http_status);
  return failure(subject + ": " + status + (quoted.empty() ? "" : " " + quoted) +
                 (error.http_status >= 500 ? "; CodeDeploy kept failing, try again later"
                                           : "; check the request and the CodeDeploy setup"));
}

const LifecycleEventInfo* DeploymentTargetInfo::failed_event() const {
  for (const auto& event : lifecycle_events) {
    if (event.status == "Failed") return &event;
  }
  return nullptr;
}

DeploymentInfo parse_deployment_info(const json::object& info) {
  DeploymentInfo out;
  out.deployment_id = text_member(info, "deploymentId");
  out.status = text_member(info, "status");
  if (const auto* error = object_member(info, "errorInformation")) {
    out.error_code = text_member(*error, "code");
    out.error_message = text_member(*error, "message");
  }
  if (const auto* overview = object_member(info, "deploymentOverview")) {
    out.overview.pending = integer_member(*overview, "Pending");
    out.overview.in_progress = integer_member(*overview, "InProgress");
    out.overview.succeeded = integer_member(*overview, "Succeeded");
    out.overview.failed = integer_member(*overview, "Failed");
    out.overview.skipped = integer_member(*overview, "Skipped");
    out.overview.ready = integer_member(*overview, "Ready");
  }
  if (const auto* rollback = object_member(info, "rollbackInfo")) {
    out.rollback_deployment_id = text_member(*rollback, "rollbackDeploymentId");
    out.rollback_triggering_id = text_member(*rollback, "rollbackTriggeringDeploymentId");
    out.rollback_message = text_member(*rollback, "rollbackMessage");
  }
  return out;
}

DeploymentTargetInfo parse_deployment_target(const json::object& target) {
  DeploymentTargetInfo out;
  // EC2/on-premises targets carry instanceTarget; the others are refused
  // earlier (switchyard switches on an instance).
  const json::object* instance = object_member(target, "instanceTarget");
  if (instance == nullptr) return out;
  out.target_id = text_member(*instance, "targetId");
  out.target_arn = text_member(*instance, "targetArn");
  out.status = text_member(*instance, "status");
  const json::value* events = instance->if_contains("lifecycleEvents");
  if (events != nullptr && events->is_array()) {
    for (const auto& item : events->get_array()) {
      if (!item.is_object()) continue;
      const auto& event = item.get_object();
      LifecycleEventInfo info;
      info.name = text_member(event, "lifecycleEventName");
      info.status = text_member(event, "status");
      if (const auto* diagnostics = object_member(event, "diagnostics")) {
        info.error_code = text_member(*diagnostics, "errorCode");
        info.script_name = text_member(*diagnostics, "scriptName");
        info.message = text_member(*diagnostics, "message");
        info.log_tail = string_member(*diagnostics, "logTail");
      }
      out.lifecycle_events.push_back(std::move(info));
    }
  }
  return out;
}

DeploymentGroupInfo parse_deployment_group_info(const json::object& info) {
  DeploymentGroupInfo out;
  out.deployment_group_id = text_member(info, "deploymentGroupId");
  out.compute_platform = text_member(info, "computePlatform");
  if (const auto* style = object_member(info, "deploymentStyle")) {
    out.deployment_type = text_member(*style, "deploymentType");
  }
  if (const auto* last = object_member(info, "lastAttemptedDeployment")) {
    out.last_attempted_deployment_id = text_member(*last, "deploymentId");
    out.last_attempted_status = text_member(*last, "status");
  }
  return out;
}

json::object create_deployment_body(const CreateDeploymentInput& input) {
  json::object s3;
  s3["bucket"] = input.revision.bucket;
  s3["key"] = input.revision.key;
  s3["bundleType"] = "zip";
  if (!input.revision.etag.empty()) s3["eTag"] = input.revision.etag;
  if (!input.revision.version_id.empty()) s3["version"] = input.revision.version_id;
  json::object revision;
  revision["revisionType"] = "S3";
  revision["s3Location"] = std::move(s3);

  json::object body;
  body["applicationName"] = input.application;
  body["deploymentGroupName"] = input.deployment_group;
  body["revision"] = std::move(revision);
  if (!input.description.empty()) body["description"] = input.description;
  if (!input.deployment_config.empty()) body["deploymentConfigName"] = input.deployment_config;
  if (!input.file_exists_behavior.empty()) body["fileExistsBehavior"] = input.file_exists_behavior;
  return body;
}

struct CodeDeployClient::State {
  CodeDeploySettings settings;
  std::string region;
  std::string endpoint;
  std::unique_ptr<AwsCredentialProvider> credentials;
  std::string credential_source;
  int throttled = 0;

  // One attempt: the answer, or a transport failure (exit 3).
  Result<HttpResponse> send(std::string_view operation, const std::string& body) {
    auto credential = credentials->get();
    if (!credential) return credential.error();
    HttpRequest request;
    request.method = "POST";
    request.url = endpoint + "/";
    request.headers = {{"Content-Type", std::string(k_content_type)},
                       {"X-Amz-Target", std::string(k_target_prefix) + std::string(operation)}};
    request.body = body;
    request.tls.ca_file = settings.ca_file;
    request.timeout = std::chrono::seconds(60);
    auto signed_request =
        sign_http_request(request, *credential, SigV4Options::for_service("codedeploy", region));
    if (!signed_request) return signed_request.error();
    RetryPolicy transport_only;
    // Lost answers to idempotent calls and 5xx are retried; other calls only
    // when nothing was sent (connection refused).
    if (!idempotent(operation)) {
      transport_only.retry_status = [](long) { return false; };
    }
    HttpOutcome outcome = idempotent(operation) ? http_send_with_retries(request, transport_only)
                                                : http_send(request);
    if (!outcome.response && outcome.failure == TransportFailure::ConnectionRefused &&
        !idempotent(operation)) {
      outcome = http_send_with_retries(request, transport_only);
    }
    if (!outcome.response) {
      return unavailable(endpoint + ": " + outcome.failure_text + " (codedeploy " +
                         std::string(operation) +
                         "); check deploy.codedeploy.endpoint / AWS_ENDPOINT_URL_CODEDEPLOY, the "
                         "region and the network");
    }
    return std::move(*outcome.response);
  }
};

CodeDeployClient::CodeDeployClient(std::unique_ptr<State> state) : m_state(std::move(state)) {}
CodeDeployClient::~CodeDeployClient() = default;
CodeDeployClient::CodeDeployClient(CodeDeployClient&&) noexcept = default;
CodeDeployClient& CodeDeployClient::operator=(CodeDeployClient&&) noexcept = default;

Result<CodeDeployClient> CodeDeployClient::connect(const CodeDeploySettings& settings) {
  auto state = std::make_unique<State>();
  state->settings = settings;
  AwsChainOptions chain;
  chain.profile = settings.profile;
  chain.region = settings.region;
  chain.ca_file = settings.ca_file;
  if (settings.env) chain.env = settings.env;
  auto region = resolve_aws_region(chain);
  if (!region) {
    return usage_error(
        "codedeploy: no AWS region; set deploy.codedeploy.region, artifact.region or AWS_REGION");
  }
  state->region = *region;
  chain.region = *region;
  state->endpoint = codedeploy_endpoint(settings, *region);
  while (!state->endpoint.empty() && state->endpoint.back() == '/')
    state->endpoint.pop_back();
  if (std::string problem = http_url_problem(state->endpoint); !problem.empty()) {
    return usage_error("codedeploy endpoint " + state->endpoint + ": " + problem +
                       "; set deploy.codedeploy.endpoint (or AWS_ENDPOINT_URL_CODEDEPLOY) to e.g. "
                       "https://codedeploy.eu-west-2.amazonaws.com");
  }
  state->credentials = std::make_unique<AwsCredentialProvider>(chain);
  auto credentials = state->credentials->get();
  if (!credentials) return credentials.error();
  state->credential_source = credentials->source;
  log::debug("CodeDeploy: {} in {}, credentials from {}", state->endpoint, state->region,
             credentials->source);
  return CodeDeployClient(std::move(state));
}

const std::string& CodeDeployClient::region() const {
  return m_state->region;
}
const std::string& CodeDeployClient::endpoint() const {
  return m_state->endpoint;
}
const std::string& CodeDeployClient::credential_source() const {
  return m_state->credential_source;
}
int CodeDeployClient::throttled() const {
  return m_state->throttled;
}

Result<json::object> CodeDeployClient::call(std::string_view operation, const json::object& input,
                                            CodeDeployApiError* api_error) {
  const std::string body = json::serialize(input);
  RetryPolicy throttle_policy;
  throttle_policy.first_backoff = m_state->settings.first_throttle_backoff;
  throttle_policy.max_backoff = m_state->settings.max_throttle_backoff;
  for (int attempt = 1;; ++attempt) {
    auto response = m_state->send(operation, body);
    if (!response) return response.error();
    if (response->status == 200) {
      boost::system::error_code parse_error;
      json::value output = json::parse(response->body, parse_error);
      if (parse_error || !output.is_object()) {
        return failure("codedeploy " + std::string(operation) +
                       ": the answer is not a JSON object; is the endpoint " + m_state->endpoint +
                       " CodeDeploy?");
      }
      return std::move(output.get_object());
    }
    CodeDeployApiError error = parse_codedeploy_error(response->status, response->body,
                                                      response->header("x-amzn-ErrorType"));
    if (is_throttle(error.type)) {
      ++m_state->throttled;
      if (attempt < m_state->settings.throttle_attempts && !interrupted()) {
        Duration wait = retry_backoff(attempt, throttle_policy);
        log::debug("codedeploy {}: throttled; retrying in {} ms", operation,
                   std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
        sleep_unless_interrupted(wait);
        continue;
      }
    }
    if (api_error != nullptr) *api_error = error;
    return explain_codedeploy_error(operation, error, m_state->credential_source);
  }
}

Result<std::string> CodeDeployClient::create_deployment(const CreateDeploymentInput& input,
                                                        CodeDeployApiError* api_error) {
  auto output = call("CreateDeployment", create_deployment_body(input), api_error);
  if (!output) return output.error();
  std::string id = string_member(*output, "deploymentId");
  // The id starts every later message; one with control characters in it is
  // not CodeDeploy's (its ids are d-XXXXXXXXX).
  if (id.empty() || one_line(id) != id) {
    return failure("codedeploy CreateDeployment: the answer has no usable deploymentId; is " +
                   m_state->endpoint + " CodeDeploy?");
  }
  return id;
}

Result<DeploymentInfo> CodeDeployClient::get_deployment(const std::string& deployment_id) {
  auto output = call("GetDeployment", {{"deploymentId", deployment_id}});
  if (!output) return output.error();
  const json::object* info = object_member(*output, "deploymentInfo");
  if (info == nullptr) {
    return failure("codedeploy GetDeployment " + deployment_id +
                   ": the answer has no deploymentInfo; is " + m_state->endpoint + " CodeDeploy?");
  }
  return parse_deployment_info(*info);
}

Result<DeploymentGroupInfo> CodeDeployClient::get_deployment_group(
    const std::string& application, const std::string& deployment_group) {
  auto output = call("GetDeploymentGroup",
                     {{"applicationName", application}, {"deploymentGroupName", deployment_group}});
  if (!output) return output.error();
  const json::object* info = object_member(*output, "deploymentGroupInfo");
  if (info == nullptr) return DeploymentGroupInfo{};
  return parse_deployment_group_info(*info);
}

Result<std::vector<std::string>> CodeDeployClient::list_deployments(
    const std::string& application, const std::string& deployment_group,
    const std::vector<std::string>& statuses) {
  std::vector<std::string> out;
  std::string next_token;
  do {
    json::object input{{"applicationName", application}, {"deploymentGroupName", deployment_group}};
    if (!statuses.empty()) {
      json::array list;
      for (const auto& status : statuses)
        list.emplace_back(status);
      input["includeOnlyStatuses"] = std::move(list);
    }
    if (!next_token.empty()) input["nextToken"] = next_token;
    auto output = call("ListDeployments", input);
    if (!output) return output.error();
    for (auto& id : string_list_member(*output, "deployments"))
      out.push_back(std::move(id));
    next_token = string_member(*output, "nextToken");
  } while (!next_token.empty());
  return out;
}

Result<std::vector<std::string>> CodeDeployClient::list_deployment_targets(
    const std::string& deployment_id, const std::vector<std::string>& statuses) {
  std::vector<std::string> out;
  std::string next_token;
  do {
    json::object input{{"deploymentId", deployment_id}};
    if (!statuses.empty()) {
      json::array list;
      for (const auto& status : statuses)
        list.emplace_back(status);
      input["targetFilters"] = json::object{{"TargetStatus", std::move(list)}};
    }
    if (!next_token.empty()) input["nextToken"] = next_token;
    auto output = call("ListDeploymentTargets", input);
    if (!output) return output.error();
    for (auto& id : string_list_member(*output, "targetIds"))
      out.push_back(std::move(id));
    next_token = string_member(*output, "nextToken");
  } while (!next_token.empty());
  return out;
}

Result<std::vector<DeploymentTargetInfo>> CodeDeployClient::batch_get_deployment_targets(
    const std::string& deployment_id, const std::vector<std::string>& target_ids) {
  std::vector<DeploymentTargetInfo> out;
  for (std::size_t start = 0; start < target_ids.size(); start += k_codedeploy_target_batch) {
    json::array ids;
    for (std::size_t i = start; i < target_ids.size() && i < start + k_codedeploy_target_batch; ++i)
      ids.emplace_back(target_ids[i]);
    auto output = call("BatchGetDeploymentTargets",
                       {{"deploymentId", deployment_id}, {"targetIds", std::move(ids)}});
    if (!output) return output.error();
    const json::value* targets = output->if_contains("deploymentTargets");
    if (targets == nullptr || !targets->is_array()) continue;
    for (const auto& target : targets->get_array()) {
      if (target.is_object()) out.push_back(parse_deployment_target(target.get_object()));
    }
  }
  return out;
}

Result<StopDeploymentOutput> CodeDeployClient::stop_deployment(const std::string& deployment_id,
                                                               bool auto_rollback_enabled) {
  auto output = call("StopDeployment", {{"deploymentId", deployment_id},
                                        {"autoRollbackEnabled", auto_rollback_enabled}});
  if (!output) return output.error();
  return StopDeploymentOutput{string_member(*output, "status"),
                              string_member(*output, "statusMessage")};
}

}  // namespace switchyard
