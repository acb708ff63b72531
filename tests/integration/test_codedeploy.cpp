// request-deploy --via codedeploy, end to end through the library
// (deploy_with_codedeploy): the bundle goes to s3rver through the S3 store,
// and the CodeDeploy calls go to the stand-in (tests/support/
// codedeploy_standin.py), which recomputes every signature with botocore,
// validates every body against botocore's model of the service, and plays a
// scripted deployment. AWS CodeDeploy itself cannot run here.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include "runner/aws/codedeploy.hpp"
#include "runner/aws/s3_client.hpp"
#include "runner/core/ci.hpp"
#include "runner/core/config.hpp"
#include "runner/core/manifest.hpp"
#include "runner/deploy/codedeploy.hpp"
#include "runner/util/interrupt.hpp"
#include "runner/util/sha256.hpp"
#include "tests/integration/codedeploy_harness.hpp"
#include "tests/integration/s3_harness.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using codedeploy_harness::CodeDeployStandIn;
using stores_test::S3rverWithProxy;

class CodeDeployDeploy : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = S3rverWithProxy::missing_peer(); !why.empty()) GTEST_SKIP() << why;
    if (std::string why = codedeploy_harness::missing_peer(); !why.empty()) GTEST_SKIP() << why;
    char pattern[] = "/tmp/switchyard-codedeploy-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    m_dir = pattern;
    stores_test::use_s3rver_credentials(m_dir);
    ASSERT_TRUE(m_s3.start("artifacts")) << "s3rver did not start";
    write_jar();
    write_config("");
  }

  void TearDown() override {
    m_standin.reset();
    stores_test::forget_s3rver_credentials();
    if (!m_dir.empty()) fs::remove_all(m_dir);
  }

  void start_standin(std::vector<std::string> flags) {
    flags.insert(flags.end(), {"--access-key", "S3RVER", "--secret-key", "S3RVER"});
    m_standin = std::make_unique<CodeDeployStandIn>(m_dir / "codedeploy.jsonl", flags);
    ASSERT_GT(m_standin->port(), 0) << "the CodeDeploy stand-in did not start";
  }

  void write_jar() {
    m_jar = m_dir / "hello-1.0.0-abc1234.jar";
    stores_test::write_random_file(m_jar, 300 * 1024, 7);
    Manifest manifest;
    manifest.app = "hello";
    manifest.version = "1.0.0-abc1234";
    manifest.app_version = "1.0.0";
    manifest.git_sha = "abc1234def5678abc1234def5678abc1234def56";
    manifest.branch = "main";
    manifest.built_at = "2026-12-07T05:00:00Z";
    manifest.file = m_jar.filename().string();
    manifest.size = fs::file_size(m_jar);
    manifest.sha256 = *sha256_file(m_jar);
    manifest.build_tool = "maven";
    ASSERT_TRUE(write_manifest(manifest, manifest_path_for(m_jar)));
    m_manifest = manifest;
  }

  void write_config(const std::string& extra) {
    std::ofstream out(m_dir / "switchyard.yml");
    out << "app: hello\n"
        << "artifact:\n  store: s3://artifacts/releases\n  endpoint: " << m_s3.endpoint()
        << "\n  region: eu-west-2\n"
        << "target:\n  state_dir: " << (m_dir / "state").string()
        << "\n  environment:\n    DB_PASSWORD: env:DB_PASSWORD\n"
        << "deploy:\n  codedeploy:\n    application: hello\n    deployment_group: hello-prod\n"
        << "    bundle_store: s3://artifacts/codedeploy\n"
        << extra;
  }

  Config config() {
    ConfigLoadOptions options;
    options.path = m_dir / "switchyard.yml";
    auto loaded = Config::load(options);
    EXPECT_TRUE(loaded) << (loaded ? "" : loaded.error().message);
    return *loaded;
  }

  CodeDeployRequest request() {
    CodeDeployRequest out;
    out.artifact = m_jar.string();
    out.first_poll = std::chrono::milliseconds(50);
    out.max_poll = std::chrono::milliseconds(200);
    out.work_dir = m_dir / "work";
    out.ci_run_url = "https://github.com/acme/hello/actions/runs/42";
    std::string endpoint = m_standin ? m_standin->url() : "http://127.0.0.1:9";
    out.env = [endpoint](const std::string& name) -> std::optional<std::string> {
      if (name == "AWS_ENDPOINT_URL_CODEDEPLOY") return endpoint;
      return process_env(name);
    };
    return out;
  }

  // Every request the stand-in saw was signed correctly and fit the model.
  void expect_every_request_valid() {
    auto requests = m_standin->requests();
    ASSERT_FALSE(requests.empty());
    for (auto& request : requests) {
      EXPECT_TRUE(request["signature_ok"].as_bool()) << json::serialize(request);
      EXPECT_TRUE(request["validation_errors"].is_null()) << json::serialize(request);
      EXPECT_EQ(request["region"].as_string(), "eu-west-2") << json::serialize(request);
    }
  }

  fs::path m_dir;
  fs::path m_jar;
  Manifest m_manifest;
  S3rverWithProxy m_s3;
  std::unique_ptr<CodeDeployStandIn> m_standin;
};

TEST_F(CodeDeployDeploy, SucceedsAndTheRevisionNamesTheUploadedObject) {
  start_standin({"--scenario", "success"});
  auto outcome = deploy_with_codedeploy(config(), request());
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->exit_code, ExitCode::Success) << outcome->message;
  EXPECT_EQ(outcome->deployment_id, "d-STANDIN0001");
  EXPECT_EQ(outcome->status, "Succeeded");
  EXPECT_EQ(outcome->console_url,
            "https://eu-west-2.console.aws.amazon.com/codesuite/codedeploy/deployments/"
            "d-STANDIN0001?region=eu-west-2");
  EXPECT_EQ(outcome->overview.succeeded, 2);
  expect_every_request_valid();

  auto created = m_standin->requests_for("CreateDeployment");
  ASSERT_EQ(created.size(), 1u);
  auto& body = created[0]["body"].as_object();
  EXPECT_EQ(body["applicationName"].as_string(), "hello");
  EXPECT_EQ(body["deploymentGroupName"].as_string(), "hello-prod");
  EXPECT_EQ(body["fileExistsBehavior"].as_string(), "OVERWRITE");
  std::string description(body["description"].as_string());
  EXPECT_NE(description.find("1.0.0-abc1234"), std::string::npos) << description;
  EXPECT_NE(description.find("abc1234def56"), std::string::npos) << description;
  EXPECT_NE(description.find("actions/runs/42"), std::string::npos) << description;
  auto& s3 = body["revision"].as_object()["s3Location"].as_object();
  EXPECT_EQ(body["revision"].as_object()["revisionType"].as_string(), "S3");
  EXPECT_EQ(s3["bundleType"].as_string(), "zip");
  EXPECT_EQ(s3["bucket"].as_string(), "artifacts");
  std::string key(s3["key"].as_string());
  EXPECT_EQ(key, "codedeploy/hello/1.0.0-abc1234/hello-1.0.0-abc1234.codedeploy.zip");
  EXPECT_EQ(outcome->bundle_uri, "s3://artifacts/" + key);

  // The object is in s3rver, and the revision carries its ETag.
  S3Settings settings;
  settings.endpoint = m_s3.endpoint();
  auto client = S3Client::connect(settings);
  ASSERT_TRUE(client) << client.error().message;
  auto object = client->head_object("artifacts", key);
  ASSERT_TRUE(object && *object);
  std::string etag = (*object)->etag;
  etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
  EXPECT_EQ(std::string(s3["eTag"].as_string()), etag);
  EXPECT_EQ(outcome->etag, etag);
  EXPECT_FALSE(s3.contains("version")) << "s3rver does not version objects";
}

TEST_F(CodeDeployDeploy, TheSameReleaseGivesTheSameBundleAndETag) {
  start_standin({"--scenario", "success"});
  auto first = deploy_with_codedeploy(config(), request());
  ASSERT_TRUE(first) << first.error().message;
  fs::remove_all(m_dir / "work");
  auto second = deploy_with_codedeploy(config(), request());
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(first->etag, second->etag);
  EXPECT_EQ(second->deployment_id, "d-STANDIN0002");
}

TEST_F(CodeDeployDeploy, ADifferentBundleUnderTheSameReleaseIsRefused) {
  start_standin({"--scenario", "success"});
  auto first = deploy_with_codedeploy(config(), request());
  ASSERT_TRUE(first) << first.error().message;
  write_config(
      "    deployment_config: CodeDeployDefault.AllAtOnce\n"
      "health:\n  timeout: 90s\n");
  auto second = deploy_with_codedeploy(config(), request());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ExitCode::Usage);
  EXPECT_EQ(second.error().message,
            "s3://artifacts/codedeploy: a different revision bundle is already stored for release "
            "1.0.0-abc1234 (the jar or the configuration changed); give this build its own release "
            "label (--release)");
  EXPECT_EQ(m_standin->requests_for("CreateDeployment").size(), 1u);
}

TEST_F(CodeDeployDeploy, AFailedInstanceIsNamedWithItsEventAndLogTail) {
  // 27 failed instances: ListDeploymentTargets pages of 10, and
  // BatchGetDeploymentTargets in batches of at most 25.
  start_standin({"--scenario", "failure", "--targets", "30", "--failed", "27"});
  auto outcome = deploy_with_codedeploy(config(), request());
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->exit_code, ExitCode::Failure);
  EXPECT_EQ(outcome->status, "Failed");
  ASSERT_EQ(outcome->instances.size(), 27u);
  const auto& instance = outcome->instances.front();
  EXPECT_EQ(instance.failed_event, "ApplicationStart");
  EXPECT_EQ(instance.error_code, "ScriptFailed");
  EXPECT_EQ(instance.script_name, "hooks/application-start.sh");
  EXPECT_NE(instance.log_tail.find("status DOWN after 60s"), std::string::npos);
  EXPECT_EQ(outcome->message,
            "d-STANDIN0001: Failed on i-00000000000000004 in ApplicationStart: "
            "[stderr]switch-traffic: http://127.0.0.1:8082/actuator/health: status DOWN after "
            "60s; the old version keeps serving; see " +
                outcome->console_url);
  EXPECT_EQ(m_standin->requests_for("ListDeploymentTargets").size(), 3u);
  auto batches = m_standin->requests_for("BatchGetDeploymentTargets");
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0]["body"].as_object()["targetIds"].as_array().size(), 25u);
  EXPECT_EQ(batches[1]["body"].as_object()["targetIds"].as_array().size(), 2u);
  expect_every_request_valid();
}

TEST_F(CodeDeployDeploy, ARollbackSaysWhichDeploymentDidIt) {
  start_standin({"--scenario", "rollback"});
  // In GitHub Actions: a group per failed instance and a step summary.
  set_ci(detect_ci({{"GITHUB_ACTIONS", "true"},
                    {"GITHUB_STEP_SUMMARY", (m_dir / "summary.md").string()},
                    {"GITHUB_OUTPUT", (m_dir / "output").string()}}));
  ::testing::internal::CaptureStderr();
  auto outcome = deploy_with_codedeploy(config(), request());
  std::string log = ::testing::internal::GetCapturedStderr();
  set_ci(detect_ci({}));
  EXPECT_NE(log.find("::group::i-00000000000000002: ApplicationStart failed"), std::string::npos)
      << log;
  EXPECT_NE(log.find("i-00000000000000002 | [stderr]switch-traffic: "), std::string::npos) << log;
  std::string summary = stores_test::read_text(m_dir / "summary.md");
  EXPECT_NE(summary.find("| i-00000000000000002 | ApplicationStart | ScriptFailed | "
                         "hooks/application-start.sh |"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("status DOWN after 60s"), std::string::npos) << summary;
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->exit_code, ExitCode::Failure);
  EXPECT_EQ(outcome->rollback_deployment_id, "d-ROLLBACK001");
  EXPECT_NE(outcome->message.find("CodeDeploy rolled it back with deployment d-ROLLBACK001"),
            std::string::npos)
      << outcome->message;
  expect_every_request_valid();
}

TEST_F(CodeDeployDeploy, ARunningDeploymentIsExit4WithItsId) {
  start_standin({"--scenario", "limit"});
  auto outcome = deploy_with_codedeploy(config(), request());
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ExitCode::Locked);
  EXPECT_EQ(outcome.error().message,
            "hello/hello-prod: another deployment is running (d-RUNNING0001); wait for it to "
            "finish or stop it (https://eu-west-2.console.aws.amazon.com/codesuite/codedeploy/"
            "deployments/d-RUNNING0001?region=eu-west-2)");
  expect_every_request_valid();
}

TEST_F(CodeDeployDeploy, AccessDeniedIsExit3NamingTheAction) {
  start_standin({"--scenario", "access-denied"});
  auto outcome = deploy_with_codedeploy(config(), request());
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ExitCode::Unavailable);
  EXPECT_NE(outcome.error().message.find("codedeploy CreateDeployment: access denied"),
            std::string::npos)
      << outcome.error().message;
  EXPECT_NE(outcome.error().message.find("grant codedeploy:CreateDeployment"), std::string::npos);
}

TEST_F(CodeDeployDeploy, ThrottlingIsHonouredAndTheDeploymentFollowed) {
  start_standin({"--scenario", "throttle", "--throttle-count", "3"});
  auto outcome = deploy_with_codedeploy(config(), request());
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->exit_code, ExitCode::Success) << outcome->message;
  int throttled = 0;
  for (auto& call : m_standin->requests_for("GetDeployment")) {
    if (call.contains("error") && call["error"].as_string() == "ThrottlingException") ++throttled;
  }
  EXPECT_EQ(throttled, 3);
}

TEST_F(CodeDeployDeploy, ABlueGreenGroupIsRefusedBeforeAnyUpload) {
  start_standin({"--scenario", "blue-green"});
  auto outcome = deploy_with_codedeploy(config(), request());
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ExitCode::Usage);
  EXPECT_NE(outcome.error().message.find("a BLUE_GREEN group replaces instances"),
            std::string::npos)
      << outcome.error().message;
  EXPECT_TRUE(m_standin->requests_for("CreateDeployment").empty());
}

TEST_F(CodeDeployDeploy, AMissingApplicationIsExit2NamingTheKey) {
  start_standin({"--scenario", "no-app"});
  auto outcome = deploy_with_codedeploy(config(), request());
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ExitCode::Usage);
  EXPECT_NE(outcome.error().message.find("deploy.codedeploy.application"), std::string::npos)
      << outcome.error().message;
}

TEST_F(CodeDeployDeploy, NoWaitReturnsTheIdAfterCreateDeployment) {
  start_standin({"--scenario", "success"});
  auto options = request();
  options.wait = false;
  auto outcome = deploy_with_codedeploy(config(), options);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->exit_code, ExitCode::Success);
  EXPECT_EQ(outcome->deployment_id, "d-STANDIN0001");
  EXPECT_TRUE(m_standin->requests_for("GetDeployment").empty());
}

TEST_F(CodeDeployDeploy, AWaitThatPassesIsExit1AndLeavesItRunning) {
  start_standin({"--scenario", "slow"});
  auto options = request();
  options.wait_timeout = std::chrono::seconds(1);
  auto outcome = deploy_with_codedeploy(config(), options);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->exit_code, ExitCode::Failure);
  EXPECT_EQ(outcome->message,
            "d-STANDIN0001: still InProgress after 1s; it keeps running in AWS "
            "(--stop-on-timeout stops it); follow it at " +
                outcome->console_url);
  EXPECT_TRUE(m_standin->requests_for("StopDeployment").empty());
}

TEST_F(CodeDeployDeploy, StopOnTimeoutStopsItWithRollback) {
  start_standin({"--scenario", "slow"});
  auto options = request();
  options.wait_timeout = std::chrono::seconds(1);
  options.stop_on_timeout = true;
  auto outcome = deploy_with_codedeploy(config(), options);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->exit_code, ExitCode::Failure);
  auto stops = m_standin->requests_for("StopDeployment");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_TRUE(stops[0]["body"].as_object()["autoRollbackEnabled"].as_bool());
  expect_every_request_valid();
}

// Ctrl-C while waiting stops the deployment with a rollback and exits 130.
// The interrupt flag cannot be cleared, so this runs in a child process.
TEST_F(CodeDeployDeploy, CtrlCStopsTheDeploymentWithRollbackAndExits130) {
  start_standin({"--scenario", "slow"});
  auto options = request();
  auto loaded = config();
  EXPECT_EXIT(
      {
        install_interrupt_handlers();
        std::thread ctrl_c([] {
          std::this_thread::sleep_for(std::chrono::milliseconds(1500));
          ::kill(::getpid(), SIGINT);
        });
        ctrl_c.detach();
        auto outcome = deploy_with_codedeploy(loaded, options);
        std::fprintf(stderr, "outcome: %s\n",
                     outcome ? outcome->message.c_str() : outcome.error().message.c_str());
        std::_Exit(outcome ? static_cast<int>(outcome->exit_code) : 99);
      },
      ::testing::ExitedWithCode(130),
      "outcome: d-STANDIN0001: interrupted; asked CodeDeploy to stop the deployment and roll back");
  auto stops = m_standin->requests_for("StopDeployment");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_TRUE(stops[0]["body"].as_object()["autoRollbackEnabled"].as_bool());
}

TEST_F(CodeDeployDeploy, AnUnreachableEndpointIsExit3) {
  auto outcome = deploy_with_codedeploy(config(), request());  // no stand-in: port 9
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ExitCode::Unavailable);
  EXPECT_NE(outcome.error().message.find("http://127.0.0.1:9: "), std::string::npos)
      << outcome.error().message;
}

// The stand-in is strict: a wrong member name or a wrong signature fails, so
// the tests above passing means the client's requests are what AWS expects.
TEST_F(CodeDeployDeploy, TheStandInRefusesAWrongMemberAndAWrongSignature) {
  start_standin({"--scenario", "success"});
  CodeDeploySettings settings;
  settings.region = "eu-west-2";
  settings.endpoint = m_standin->url();
  auto client = CodeDeployClient::connect(settings);
  ASSERT_TRUE(client) << client.error().message;
  json::object wrong{
      {"applicationName", "hello"},
      {"deploymentGroupName", "hello-prod"},
      {"revision",
       {{"revisionType", "S3"}, {"s3Location", {{"bucketName", "artifacts"}, {"key", "k"}}}}}};
  CodeDeployApiError error;
  auto created = client->call("CreateDeployment", wrong, &error);
  ASSERT_FALSE(created);
  EXPECT_EQ(error.type, "ValidationException");
  auto requests = m_standin->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_NE(std::string(requests[0]["validation_errors"].as_string()).find("bucketName"),
            std::string::npos);

  ::setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
  auto wrong_key = CodeDeployClient::connect(settings);
  ASSERT_TRUE(wrong_key);
  auto refused = wrong_key->get_deployment("d-STANDIN0001");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ExitCode::Unavailable);
  EXPECT_NE(refused.error().message.find("were refused: check the access key"), std::string::npos)
      << refused.error().message;
}

// bench/codedeploy.sh's entry into the library until request-deploy --via
// codedeploy exists: one deploy_with_codedeploy --no-wait (bundle, upload,
// CreateDeployment) against the peers the script started. Disabled unless
// the script runs it (--gtest_also_run_disabled_tests) with its settings.
TEST(CodeDeployBench, DISABLED_RequestToCreateDeployment) {
  const char* config_path = std::getenv("SWITCHYARD_BENCH_CODEDEPLOY_CONFIG");
  const char* jar = std::getenv("SWITCHYARD_BENCH_CODEDEPLOY_JAR");
  const char* release = std::getenv("SWITCHYARD_BENCH_CODEDEPLOY_RELEASE");
  if (config_path == nullptr || jar == nullptr || release == nullptr) {
    GTEST_SKIP() << "run by bench/codedeploy.sh, which sets SWITCHYARD_BENCH_CODEDEPLOY_*";
  }
  ConfigLoadOptions options;
  options.path = config_path;
  auto config = Config::load(options);
  ASSERT_TRUE(config) << config.error().message;
  CodeDeployRequest request;
  request.artifact = jar;
  request.release = release;
  request.wait = false;
  auto outcome = deploy_with_codedeploy(*config, request);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_FALSE(outcome->deployment_id.empty());
}

}  // namespace
}  // namespace switchyard
