// The credential chain against loopback stand-ins for STS and the EC2
// instance metadata service (tests/support/aws_standins.py), reached through
// the standard endpoint overrides AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL and
// AWS_EC2_METADATA_SERVICE_ENDPOINT.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "runner/aws/credentials.hpp"
#include "runner/aws/sigv4.hpp"
#include "runner/core/log.hpp"
#include "runner/net/http.hpp"
#include "tests/support/aws_chain_fixture.hpp"
#include "tests/support/python_standin.hpp"

extern char** environ;

namespace switchyard::aws_credentials_integration {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

using test_support::k_python;
constexpr const char* k_role_arn = "arn:aws:iam::123456789012:role/switchyard-deploy";
constexpr const char* k_web_token = "eyJhbGciOiJSUzI1NiJ9.web-identity-token-0001.sig";

// The AWS stand-ins (STS, instance metadata, the SSO portal) of
// tests/support/aws_standins.py.
class StandIn : public test_support::PythonStandIn {
 public:
  StandIn(const fs::path& log, const std::vector<std::string>& flags)
      : PythonStandIn(std::string(SWITCHYARD_SOURCE_DIR) + "/tests/support/aws_standins.py", log,
                      flags) {}
};

std::string str(const json::object& object, const char* key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

std::string header_of(const json::object& request, const char* name) {
  return str(request.at("headers").as_object(), name);
}

std::map<std::string, std::string> form_fields(const std::string& body) {
  std::map<std::string, std::string> fields;
  std::istringstream in(body);
  for (std::string pair; std::getline(in, pair, '&');) {
    auto eq = pair.find('=');
    fields[aws_uri_decode(pair.substr(0, eq))] =
        eq == std::string::npos ? "" : aws_uri_decode(pair.substr(eq + 1));
  }
  return fields;
}

class AwsChainIntegration : public aws_testing::AwsChainFixture {
 protected:
  void SetUp() override {
    if (!fs::exists(k_python)) GTEST_SKIP() << k_python << " is missing; apt-get install python3";
    AwsChainFixture::SetUp();
  }
  void TearDown() override {
    m_standin.reset();
    AwsChainFixture::TearDown();
  }

  StandIn& start_standin(const std::vector<std::string>& flags = {}) {
    m_standin = std::make_unique<StandIn>(m_home / "requests.jsonl", flags);
    EXPECT_GT(m_standin->port(), 0) << "the stand-in did not start";
    return *m_standin;
  }

  void use_web_identity(const StandIn& sts) {
    write("token", std::string(k_web_token) + "\n");
    m_env["AWS_ROLE_ARN"] = k_role_arn;
    m_env["AWS_WEB_IDENTITY_TOKEN_FILE"] = (m_home / "token").string();
    m_env["AWS_ROLE_SESSION_NAME"] = "github-run-42";
    m_env["AWS_ENDPOINT_URL_STS"] = sts.url();
  }

  std::unique_ptr<StandIn> m_standin;
};

TEST_F(AwsChainIntegration, WebIdentityAssumesTheRoleThroughSts) {
  StandIn& sts = start_standin();
  use_web_identity(sts);
  auto before = std::chrono::system_clock::now();
  auto credentials = resolve_aws_credentials(options());
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIASTS1");
  EXPECT_EQ(credentials->secret_access_key, "sts-secret-1");
  EXPECT_EQ(credentials->session_token, "sts-session-token-1");
  EXPECT_EQ(credentials->source, std::string("web identity (") + k_role_arn + ")");
  ASSERT_TRUE(credentials->expiration.has_value());
  auto lifetime = *credentials->expiration - before;
  EXPECT_GT(lifetime, std::chrono::minutes(59));
  EXPECT_LT(lifetime, std::chrono::minutes(61));

  // One unsigned form POST, as AWS documents AssumeRoleWithWebIdentity.
  auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(str(requests[0], "method"), "POST");
  EXPECT_EQ(str(requests[0], "path"), "/");
  EXPECT_EQ(header_of(requests[0], "content-type"),
            "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(header_of(requests[0], "authorization"), "");
  auto fields = form_fields(str(requests[0], "body"));
  EXPECT_EQ(fields["Action"], "AssumeRoleWithWebIdentity");
  EXPECT_EQ(fields["Version"], "2011-06-15");
  EXPECT_EQ(fields["RoleArn"], k_role_arn);
  EXPECT_EQ(fields["RoleSessionName"], "github-run-42");
  EXPECT_EQ(fields["WebIdentityToken"], k_web_token);

  // The token and the credentials it bought never reach a log line.
  EXPECT_EQ(mask_secrets(std::string(k_web_token) + " sts-secret-1 sts-session-token-1"),
            "*** *** ***");
}

TEST_F(AwsChainIntegration, StsRefusalSaysWhichRoleAndWhy) {
  StandIn& sts = start_standin({"--sts-error", "InvalidIdentityToken"});
  use_web_identity(sts);
  auto credentials = resolve_aws_credentials(options());
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ExitCode::Unavailable);
  EXPECT_EQ(credentials.error().message,
            std::string("AWS credentials: STS AssumeRoleWithWebIdentity for ") + k_role_arn +
                " at " + sts.url() +
                " refused: InvalidIdentityToken: Not authorized to perform "
                "sts:AssumeRoleWithWebIdentity & more; check that the role's trust policy "
                "allows this identity provider and audience, and that the token is fresh");
  EXPECT_EQ(credentials.error().message.find(k_web_token), std::string::npos);
}

TEST_F(AwsChainIntegration, UnreachableStsIsUnavailable) {
  write("token", k_web_token);
  m_env["AWS_ROLE_ARN"] = k_role_arn;
  m_env["AWS_WEB_IDENTITY_TOKEN_FILE"] = (m_home / "token").string();
  m_env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:9/";
  auto credentials = resolve_aws_credentials(options());
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ExitCode::Unavailable);
  EXPECT_TRUE(credentials.error().message.starts_with(
      std::string("AWS credentials: STS AssumeRoleWithWebIdentity for ") + k_role_arn +
      " at http://127.0.0.1:9: connection refused; check the network, or AWS_ENDPOINT_URL_STS "
      "if it is set"))
      << credentials.error().message;
}

TEST_F(AwsChainIntegration, ProfileWithWebIdentityTokenFileUsesTheGeneralEndpoint) {
  StandIn& sts = start_standin();
  write("token", k_web_token);
  write(".aws/config", "[profile ci]\nrole_arn = " + std::string(k_role_arn) +
                           "\nweb_identity_token_file = ~/token\nrole_session_name = ci-job\n");
  m_env["AWS_ENDPOINT_URL"] = sts.url();
  auto credentials = resolve_aws_credentials(options("ci"));
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIASTS1");
  auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(form_fields(str(requests[0], "body"))["RoleSessionName"], "ci-job");
}

TEST_F(AwsChainIntegration, SourceProfileSignsAssumeRole) {
  StandIn& sts = start_standin();
  write(".aws/credentials",
        "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret-0001\n");
  write(".aws/config", "[profile ops]\nrole_arn = " + std::string(k_role_arn) +
                           "\nsource_profile = base\nregion = eu-west-1\n");
  m_env["AWS_ENDPOINT_URL_STS"] = sts.url();
  auto credentials = resolve_aws_credentials(options("ops"));
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIASTS1");
  EXPECT_EQ(credentials->source, std::string("role ") + k_role_arn + " (profile 'ops')");
  auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(form_fields(str(requests[0], "body"))["Action"], "AssumeRole");
  std::string authorization = header_of(requests[0], "authorization");
  EXPECT_TRUE(authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIABASE/"));
  EXPECT_NE(authorization.find("/eu-west-1/sts/aws4_request"), std::string::npos) << authorization;
}

TEST_F(AwsChainIntegration, InstanceMetadataV2UsesItsSessionToken) {
  StandIn& imds = start_standin({"--imds-role", "switchyard-host"});
  m_env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url() + "/";

  // The stand-in holds to IMDSv2: a GET without the session token is refused.
  HttpRequest tokenless;
  tokenless.url = imds.url() + "/latest/meta-data/iam/security-credentials/";
  HttpOutcome refused = http_send(tokenless);
  ASSERT_TRUE(refused.response.has_value()) << refused.failure_text;
  EXPECT_EQ(refused.response->status, 401);

  auto credentials = resolve_aws_credentials(options());
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIAIMDS2");
  EXPECT_EQ(credentials->secret_access_key, "imds-secret-2");
  EXPECT_EQ(credentials->session_token, "imds-session-token-2");
  EXPECT_EQ(credentials->source, "EC2 instance metadata (role switchyard-host)");
  EXPECT_TRUE(credentials->expiration.has_value());

  auto requests = imds.requests();
  ASSERT_EQ(requests.size(), 4u);  // the tokenless probe above, then the chain's three
  EXPECT_EQ(str(requests[1], "method"), "PUT");
  EXPECT_EQ(str(requests[1], "path"), "/latest/api/token");
  EXPECT_EQ(header_of(requests[1], "x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(str(requests[2], "path"), "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(str(requests[3], "path"), "/latest/meta-data/iam/security-credentials/switchyard-host");
  EXPECT_EQ(header_of(requests[2], "x-aws-ec2-metadata-token"), "imds-session-1-AQAEAEXAMPLE");
  EXPECT_EQ(header_of(requests[3], "x-aws-ec2-metadata-token"), "imds-session-1-AQAEAEXAMPLE");
  EXPECT_EQ(mask_secrets("imds-secret-2 imds-session-token-2"), "*** ***");
}

TEST_F(AwsChainIntegration, InstanceWithoutRoleMeansNoneFound) {
  StandIn& imds = start_standin({"--imds-role", ""});
  m_env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  expect_chain_failure(
      options(), ExitCode::Unavailable,
      "AWS credentials: none found; looked in the environment (AWS_ACCESS_KEY_ID), web "
      "identity (AWS_ROLE_ARN), ~/.aws/credentials profile 'default', ~/.aws/config, EC2 "
      "instance metadata; set one of them");
  EXPECT_EQ(imds.requests().size(), 2u);
}

TEST_F(AwsChainIntegration, DisabledMetadataIsNotAsked) {
  StandIn& imds = start_standin();
  m_env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  m_env["AWS_EC2_METADATA_DISABLED"] = "true";
  auto credentials = resolve_aws_credentials(options());
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(imds.requests().size(), 0u);
}

TEST_F(AwsChainIntegration, ContainerCredentialsSendTheAuthorizationToken) {
  StandIn& agent = start_standin();
  m_env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = agent.url() + "/container/credentials";
  m_env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "container-auth-token-0001";
  auto credentials = resolve_aws_credentials(options());
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIACONT1");
  EXPECT_EQ(credentials->session_token, "container-session-token-1");
  EXPECT_EQ(credentials->source, "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)");
  EXPECT_TRUE(credentials->expiration.has_value());
  auto requests = agent.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(header_of(requests[0], "authorization"), "container-auth-token-0001");
  EXPECT_EQ(mask_secrets("container-auth-token-0001 container-secret-1"), "*** ***");
}

TEST_F(AwsChainIntegration, ContainerTokenFromAFileAndARefusal) {
  StandIn& agent = start_standin();
  std::string url = agent.url() + "/container/credentials";
  m_env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = url;
  write("agent-token", "container-auth-token-0001\n");
  m_env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = (m_home / "agent-token").string();
  auto from_file = resolve_aws_credentials(options());
  ASSERT_TRUE(from_file.ok()) << from_file.error().message;
  EXPECT_EQ(from_file->access_key_id, "ASIACONT1");

  write("agent-token", "a-wrong-token");
  auto refused = resolve_aws_credentials(options());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ExitCode::Unavailable);
  EXPECT_EQ(refused.error().message,
            "AWS credentials: container credentials at " + url +
                " (AWS_CONTAINER_CREDENTIALS_FULL_URI): HTTP 401; check the task role and the "
                "authorization token");
}

// A metadata address that accepts connections and never answers (as a
// firewalled 169.254.169.254 can) costs about the 1 s timeout, not more.
TEST_F(AwsChainIntegration, SilentMetadataServiceTimesOutQuickly) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t size = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
  m_env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] =
      "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));

  auto start = std::chrono::steady_clock::now();
  auto credentials = resolve_aws_credentials(options());
  auto elapsed = std::chrono::steady_clock::now() - start;
  close(listener);
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ExitCode::Unavailable);
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));
}

TEST_F(AwsChainIntegration, ProviderRefreshesCredentialsThatExpireWithinAMinute) {
  StandIn& imds = start_standin({"--expires-in", "60"});
  m_env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  // The provider keeps its own copy of the options, environment lookup included.
  AwsCredentialProvider provider(options());
  auto first = provider.get();
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = provider.get();
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(first->access_key_id, "ASIAIMDS2");
  EXPECT_EQ(second->access_key_id, "ASIAIMDS4");
  EXPECT_EQ(imds.requests().size(), 6u);
}

TEST_F(AwsChainIntegration, ProviderKeepsCredentialsWithTimeLeft) {
  StandIn& sts = start_standin({"--expires-in", "3600"});
  use_web_identity(sts);
  AwsCredentialProvider provider(options());
  auto first = provider.get();
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = provider.get();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->access_key_id, first->access_key_id);
  EXPECT_EQ(sts.requests().size(), 1u);
}

TEST_F(AwsChainIntegration, ProviderRefreshesWebIdentityCredentialsNearExpiry) {
  StandIn& sts = start_standin({"--expires-in", "60"});
  use_web_identity(sts);
  AwsCredentialProvider provider(options());
  EXPECT_EQ(provider.get()->access_key_id, "ASIASTS1");
  EXPECT_EQ(provider.get()->access_key_id, "ASIASTS2");
  EXPECT_EQ(sts.requests().size(), 2u);
}

// --- IAM Identity Center and credential_process ---------------------------------

// The token cache `aws sso login` leaves: ~/.aws/sso/cache/<sha1 of the
// session name (or the legacy start URL)>.json.
std::string sso_cache_entry(const std::string& token, std::chrono::minutes valid_for) {
  auto when = std::chrono::system_clock::now() + valid_for;
  std::time_t time = std::chrono::system_clock::to_time_t(when);
  char expires[32];
  std::strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&time));
  return "{\"startUrl\": \"https://acme.awsapps.com/start\", \"region\": \"eu-west-2\", "
         "\"accessToken\": \"" +
         token + "\", \"expiresAt\": \"" + expires + "\"}";
}

TEST_F(AwsChainIntegration, SsoSessionProfileGetsRoleCredentialsFromThePortal) {
  StandIn& portal = start_standin();
  m_env["AWS_ENDPOINT_URL_SSO"] = portal.url();
  write(".aws/config",
        "[profile dev]\nsso_session = my-sso\nsso_account_id = 123456789012\n"
        "sso_role_name = Deployer\nregion = eu-west-2\n"
        "[sso-session my-sso]\nsso_start_url = https://acme.awsapps.com/start\n"
        "sso_region = eu-west-2\nsso_registration_scopes = sso:account:access\n");
  write(".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json",
        sso_cache_entry("sso-access-token-0001", std::chrono::minutes(60)));
  auto credentials = resolve_aws_credentials(options("dev"));
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIASSO1");
  EXPECT_EQ(credentials->secret_access_key, "sso-secret-1");
  EXPECT_EQ(credentials->session_token, "sso-session-token-1");
  EXPECT_EQ(credentials->source, "IAM Identity Center (profile 'dev', role Deployer)");
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_GT(*credentials->expiration, std::chrono::system_clock::now() + std::chrono::minutes(59));

  auto requests = portal.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(str(requests[0], "method"), "GET");
  EXPECT_EQ(str(requests[0], "path"),
            "/federation/credentials?account_id=123456789012&role_name=Deployer");
  EXPECT_EQ(header_of(requests[0], "x-amz-sso_bearer_token"), "sso-access-token-0001");
  EXPECT_EQ(mask_secrets("sso-access-token-0001 sso-secret-1"), "*** ***");
}

TEST_F(AwsChainIntegration, LegacySsoProfileReadsTheCacheByStartUrl) {
  StandIn& portal = start_standin();
  m_env["AWS_ENDPOINT_URL_SSO"] = portal.url();
  write(".aws/config",
        "[profile old]\nsso_start_url = https://acme.awsapps.com/start\nsso_region = eu-west-2\n"
        "sso_account_id = 123456789012\nsso_role_name = Deployer\n");
  write(".aws/sso/cache/40169cea58ca6cbf23fb27b2542923fb5f524af0.json",
        sso_cache_entry("sso-access-token-0001", std::chrono::minutes(60)));
  auto credentials = resolve_aws_credentials(options("old"));
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIASSO1");
}

TEST_F(AwsChainIntegration, AnExpiredSsoTokenSaysToLogInAgain) {
  StandIn& portal = start_standin();
  m_env["AWS_ENDPOINT_URL_SSO"] = portal.url();
  write(".aws/config",
        "[profile dev]\nsso_session = my-sso\nsso_account_id = 123456789012\n"
        "sso_role_name = Deployer\n"
        "[sso-session my-sso]\nsso_start_url = https://acme.awsapps.com/start\n"
        "sso_region = eu-west-2\n");
  write(".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json",
        sso_cache_entry("sso-access-token-0001", std::chrono::minutes(-5)));
  expect_chain_failure(
      options("dev"), ExitCode::Unavailable,
      "AWS profile 'dev': the IAM Identity Center token for https://acme.awsapps.com/start "
      "has expired; run aws sso login --profile dev");
  EXPECT_TRUE(portal.requests().empty());

  // A token the portal does not know: refused, saying what to do.
  write(".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json",
        sso_cache_entry("revoked-token", std::chrono::minutes(60)));
  auto credentials = resolve_aws_credentials(options("dev"));
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().message,
            "AWS profile 'dev': IAM Identity Center refused the token (HTTP 401) for account "
            "123456789012 role Deployer; run aws sso login --profile dev, and check the role is "
            "assigned");
}

TEST_F(AwsChainIntegration, CredentialProcessOutputIsReadWithItsExpiry) {
  write("bin/creds",
        "#!/bin/sh\n"
        "[ \"$1\" = \"--role\" ] && [ \"$2\" = \"deploy er\" ] || { echo \"bad args: $*\" >&2; "
        "exit 9; }\n"
        "printf '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", \"SecretAccessKey\": "
        "\"proc-secret\", \"SessionToken\": \"proc-token\", \"Expiration\": "
        "\"2099-01-01T00:00:00Z\"}'\n");
  fs::permissions(m_home / "bin/creds", fs::perms::owner_all);
  write(".aws/config", "[profile proc]\ncredential_process = " + (m_home / "bin/creds").string() +
                           " --role \"deploy er\"\n");
  auto credentials = resolve_aws_credentials(options("proc"));
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIAPROC");
  EXPECT_EQ(credentials->secret_access_key, "proc-secret");
  EXPECT_EQ(credentials->session_token, "proc-token");
  EXPECT_EQ(credentials->source, "credential_process (profile 'proc')");
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(*credentials->expiration, *parse_iso8601_utc("2099-01-01T00:00:00Z"));
  EXPECT_EQ(mask_secrets("proc-secret proc-token"), "*** ***");
}

TEST_F(AwsChainIntegration, ACredentialProcessThatFailsIsNamedWithItsError) {
  write("bin/creds", "#!/bin/sh\necho 'token expired, log in again' >&2\nexit 3\n");
  fs::permissions(m_home / "bin/creds", fs::perms::owner_all);
  write(".aws/config",
        "[profile proc]\ncredential_process = " + (m_home / "bin/creds").string() + "\n");
  auto credentials = resolve_aws_credentials(options("proc"));
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ExitCode::Unavailable);
  EXPECT_EQ(credentials.error().message,
            "AWS profile 'proc': credential_process " + (m_home / "bin/creds").string() +
                " exited 3 (token expired, log in again); run it by hand to see why (e.g. log in "
                "again)");

  write("bin/creds", "#!/bin/sh\necho '{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}'\n");
  credentials = resolve_aws_credentials(options("proc"));
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("its output has no \"Version\": 1"), std::string::npos)
      << credentials.error().message;
}

}  // namespace
}  // namespace switchyard::aws_credentials_integration
