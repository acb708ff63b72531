// The CodeDeploy client's pure parts (runner/aws/codedeploy.hpp) and the
// driver's outputs (runner/deploy/codedeploy.hpp): error types and their exit
// codes, request bodies, answer parsing, endpoints. The calls themselves are
// tested against the stand-in in tests/integration/test_codedeploy.cpp.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "runner/aws/codedeploy.hpp"
#include "runner/deploy/codedeploy.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

TEST(CodeDeployErrorType, StripsTheNamespaceAndTheHeaderSuffix) {
  EXPECT_EQ(codedeploy_error_type("com.amazonaws.codedeploy#ThrottlingException"),
            "ThrottlingException");
  EXPECT_EQ(codedeploy_error_type("AccessDeniedException:http://internal.amazon.com/coral/"),
            "AccessDeniedException");
  EXPECT_EQ(codedeploy_error_type("DeploymentLimitExceededException"),
            "DeploymentLimitExceededException");
}

Error explain(const std::string& type, const std::string& message, long status = 400) {
  return explain_codedeploy_error("CreateDeployment", {status, type, message},
                                  "profile 'ci' in ~/.aws/credentials");
}

TEST(CodeDeployErrors, MapToTheDocumentedExitCodes) {
  EXPECT_EQ(explain("ApplicationDoesNotExistException", "No application").code, ExitCode::Usage);
  EXPECT_EQ(explain("DeploymentGroupDoesNotExistException", "").code, ExitCode::Usage);
  EXPECT_EQ(explain("InvalidRevisionException", "").code, ExitCode::Usage);
  EXPECT_EQ(explain("DeploymentLimitExceededException", "").code, ExitCode::Locked);
  EXPECT_EQ(explain("AccessDeniedException", "").code, ExitCode::Unavailable);
  EXPECT_EQ(explain("InvalidSignatureException", "does not match").code, ExitCode::Unavailable);
  EXPECT_EQ(explain("ThrottlingException", "Rate exceeded").code, ExitCode::Unavailable);
  EXPECT_EQ(explain("InternalFailure", "", 500).code, ExitCode::Failure);
}

TEST(CodeDeployErrors, SayWhatToDo) {
  EXPECT_EQ(
      explain("DeploymentGroupDoesNotExistException", "No group found for name: prod").message,
      "codedeploy CreateDeployment: DeploymentGroupDoesNotExistException: No group found for "
      "name: prod; check deploy.codedeploy.deployment_group or create the group in the "
      "application");
  EXPECT_EQ(explain("AccessDeniedException", "").message,
            "codedeploy CreateDeployment: access denied for the credentials from profile 'ci' in "
            "~/.aws/credentials; grant codedeploy:CreateDeployment on the application's "
            "deployment group to that identity");
  // A skewed clock is told apart from a wrong key.
  EXPECT_NE(explain("InvalidSignatureException",
                    "Signature expired: 20260101T000000Z is now "
                    "earlier than 20260101T001500Z")
                .message.find("fix the clock"),
            std::string::npos);
  EXPECT_NE(explain("InvalidSignatureException",
                    "The request signature we calculated does not "
                    "match the signature you provided.")
                .message.find("check the access key, secret and session token"),
            std::string::npos);
}

TEST(CodeDeployBodies, CreateDeploymentNamesTheS3RevisionAsTheModelDoes) {
  CreateDeploymentInput input;
  input.application = "hello";
  input.deployment_group = "prod";
  input.revision = {"bucket", "codedeploy/hello/1/hello-1.codedeploy.zip", "abc", "v1"};
  input.description = "switchyard 1";
  input.file_exists_behavior = "OVERWRITE";
  EXPECT_EQ(json::serialize(create_deployment_body(input)),
            R"({"applicationName":"hello","deploymentGroupName":"prod","revision":{)"
            R"("revisionType":"S3","s3Location":{"bucket":"bucket","key":)"
            R"("codedeploy/hello/1/hello-1.codedeploy.zip","bundleType":"zip","eTag":"abc",)"
            R"("version":"v1"}},"description":"switchyard 1","fileExistsBehavior":"OVERWRITE"})");
  input.revision.version_id.clear();
  input.deployment_config = "CodeDeployDefault.OneAtATime";
  auto body = create_deployment_body(input);
  EXPECT_FALSE(body["revision"].as_object()["s3Location"].as_object().contains("version"));
  EXPECT_EQ(body["deploymentConfigName"].as_string(), "CodeDeployDefault.OneAtATime");
}

TEST(CodeDeployAnswers, ParseTheDeploymentAndItsTargets) {
  auto info = parse_deployment_info(json::parse(R"({"deploymentId":"d-1","status":"Failed",
        "errorInformation":{"code":"HEALTH_CONSTRAINTS","message":"too many failed"},
        "deploymentOverview":{"Pending":0,"InProgress":0,"Succeeded":1,"Failed":2,"Skipped":3},
        "rollbackInfo":{"rollbackDeploymentId":"d-2","rollbackMessage":"rolled back"}})")
                                        .as_object());
  EXPECT_EQ(info.status, "Failed");
  EXPECT_TRUE(info.finished());
  EXPECT_EQ(info.error_code, "HEALTH_CONSTRAINTS");
  EXPECT_EQ(info.overview.failed, 2);
  EXPECT_EQ(info.overview.skipped, 3);
  EXPECT_EQ(info.rollback_deployment_id, "d-2");

  auto target = parse_deployment_target(
      json::parse(R"({"deploymentTargetType":"InstanceTarget","instanceTarget":{
        "targetId":"i-1","status":"Failed","lifecycleEvents":[
          {"lifecycleEventName":"BeforeInstall","status":"Succeeded"},
          {"lifecycleEventName":"ApplicationStart","status":"Failed","diagnostics":{
            "errorCode":"ScriptFailed","scriptName":"hooks/application-start.sh",
            "message":"failed with exit code 1","logTail":"[stderr]first\n[stderr]second"}}]}})")
          .as_object());
  ASSERT_NE(target.failed_event(), nullptr);
  EXPECT_EQ(target.failed_event()->name, "ApplicationStart");
  EXPECT_EQ(target.failed_event()->log_tail, "[stderr]first\n[stderr]second");

  auto group =
      parse_deployment_group_info(json::parse(R"({"deploymentStyle":{"deploymentType":"BLUE_GREEN"},
        "lastAttemptedDeployment":{"deploymentId":"d-9","status":"InProgress"}})")
                                      .as_object());
  EXPECT_EQ(group.deployment_type, "BLUE_GREEN");
  EXPECT_EQ(group.last_attempted_deployment_id, "d-9");
}

// An answer's text reaches the log and the step's one-line error: a line
// break in it must not start a line of the answer's choosing (a workflow
// command in GitHub Actions). The log tail is the hook's own output and
// stays as it is (it is printed between stop-commands markers).
TEST(CodeDeployAnswers, KeepEveryQuotedTextOnOneLine) {
  CodeDeployApiError error = parse_codedeploy_error(
      500, R"({"__type":"Internal\nFailure","message":"try again\n::add-mask::x"})", "");
  EXPECT_EQ(error.type, "Internal\\nFailure");
  EXPECT_EQ(error.message, "try again\\n::add-mask::x");
  EXPECT_EQ(explain_codedeploy_error("GetDeployment", error, "the environment").message.find('\n'),
            std::string::npos);

  CodeDeployApiError from_header = parse_codedeploy_error(400, "not json", "Throttling\rException");
  EXPECT_EQ(from_header.type, "Throttling\\rException");

  auto target = parse_deployment_target(
      json::parse(R"({"instanceTarget":{"targetId":"i-1\ni-2 Succeeded","status":"Failed",
        "lifecycleEvents":[{"lifecycleEventName":"ApplicationStart","status":"Failed",
          "diagnostics":{"message":"exit 1\n::error::x","logTail":"one\ntwo"}}]}})")
          .as_object());
  EXPECT_EQ(target.target_id, "i-1\\ni-2 Succeeded");
  EXPECT_EQ(target.lifecycle_events.at(0).message, "exit 1\\n::error::x");
  EXPECT_EQ(target.lifecycle_events.at(0).log_tail, "one\ntwo");

  auto info = parse_deployment_info(
      json::parse(R"({"deploymentId":"d-1","status":"Failed","errorInformation":{
        "code":"X","message":"a\u001b[2Jb"}})")
          .as_object());
  EXPECT_EQ(info.error_message, "a\\x1b[2Jb");
}

// Found by fuzz_codedeploy: a count past int64 (a double like 6.7e52, or an
// unsigned above 2^63-1) was converted regardless, which is undefined.
TEST(CodeDeployAnswers, CountsThatAreNoInt64ReadAsZero) {
  auto info = parse_deployment_info(
      json::parse(R"({"deploymentOverview":{"Pending":6.6666e52,"InProgress":18446744073709551615,
        "Succeeded":3.0,"Failed":-1e300,"Skipped":9223372036854775807,"Ready":"7"}})")
          .as_object());
  EXPECT_EQ(info.overview.pending, 0);
  EXPECT_EQ(info.overview.in_progress, 0);
  EXPECT_EQ(info.overview.succeeded, 3);
  EXPECT_EQ(info.overview.failed, 0);
  EXPECT_EQ(info.overview.skipped, 9223372036854775807);
  EXPECT_EQ(info.overview.ready, 0);
}

TEST(CodeDeployEndpoint, FollowsTheConfigThenTheEnvironmentThenAws) {
  CodeDeploySettings settings;
  std::map<std::string, std::string> env;
  settings.env = [&](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  EXPECT_EQ(codedeploy_endpoint(settings, "eu-west-2"),
            "https://codedeploy.eu-west-2.amazonaws.com");
  env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1";
  EXPECT_EQ(codedeploy_endpoint(settings, "eu-west-2"), "http://127.0.0.1:1");
  env["AWS_ENDPOINT_URL_CODEDEPLOY"] = "http://127.0.0.1:2";
  EXPECT_EQ(codedeploy_endpoint(settings, "eu-west-2"), "http://127.0.0.1:2");
  settings.endpoint = "http://127.0.0.1:3";
  EXPECT_EQ(codedeploy_endpoint(settings, "eu-west-2"), "http://127.0.0.1:3");
}

TEST(CodeDeployOutputs, NameTheDeploymentAndEachInstance) {
  CodeDeployOutcome outcome;
  outcome.deployment_id = "d-1";
  outcome.status = "Failed";
  outcome.console_url = codedeploy_console_url("eu-west-2", "d-1");
  outcome.instances = {{"i-1", "Failed", "ApplicationStart", "ScriptFailed", "", "", ""},
                       {"i-2", "Failed", "BeforeInstall", "ScriptFailed", "", "", ""}};
  auto outputs = codedeploy_outputs(outcome);
  std::map<std::string, std::string> by_name(outputs.begin(), outputs.end());
  EXPECT_EQ(by_name["deployment-id"], "d-1");
  EXPECT_EQ(by_name["console-url"],
            "https://eu-west-2.console.aws.amazon.com/codesuite/codedeploy/deployments/"
            "d-1?region=eu-west-2");
  EXPECT_EQ(by_name["instances"], "i-1 Failed ApplicationStart\ni-2 Failed BeforeInstall\n");
}

TEST(CodeDeployDescription, CarriesReleaseShaAndRunWithinTheLimit) {
  EXPECT_EQ(deployment_description("1.0.0-abc", "abc1234def5678abc", "https://ci/run/1"),
            "switchyard 1.0.0-abc (git abc1234def56) https://ci/run/1");
  EXPECT_EQ(deployment_description("1", "", std::string(400, 'u')).size(), 255u);
}

}  // namespace
}  // namespace switchyard
