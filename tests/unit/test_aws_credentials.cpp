// The credential chain's environment and shared-file parts, region
// resolution, and the refreshing provider. Web identity and instance metadata
// are tested against loopback stand-ins in
// tests/integration/test_aws_credentials.cpp.
#include <gtest/gtest.h>

#include "runner/aws/credentials.hpp"
#include "runner/core/log.hpp"
#include "tests/support/aws_chain_fixture.hpp"

namespace switchyard::aws_credentials_test {
namespace {

using AwsChainTest = aws_testing::AwsChainFixture;

TEST_F(AwsChainTest, EnvironmentKeysComeFirstAndTheirSecretsAreMasked) {
  m_env["AWS_ACCESS_KEY_ID"] = "AKIAENVIRONMENT";
  m_env["AWS_SECRET_ACCESS_KEY"] = "env-secret-key-0001";
  m_env["AWS_SESSION_TOKEN"] = "env-session-token-0001";
  write(".aws/credentials",
        "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = x1234\n");
  auto credentials = resolve_aws_credentials(options());
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "AKIAENVIRONMENT");
  EXPECT_EQ(credentials->secret_access_key, "env-secret-key-0001");
  EXPECT_EQ(credentials->session_token, "env-session-token-0001");
  EXPECT_FALSE(credentials->expiration.has_value());
  EXPECT_EQ(credentials->source, "environment");
  EXPECT_EQ(mask_secrets("key env-secret-key-0001 token env-session-token-0001"),
            "key *** token ***");
}

TEST_F(AwsChainTest, HalfSetEnvironmentIsAnError) {
  m_env["AWS_ACCESS_KEY_ID"] = "AKIAENVIRONMENT";
  expect_chain_failure(
      options(), ExitCode::Usage,
      "AWS credentials: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set "
      "both, or unset AWS_ACCESS_KEY_ID to use another source");
}

TEST_F(AwsChainTest, DefaultProfileFromTheCredentialsFile) {
  write(".aws/credentials",
        "# a comment\n[default]\r\naws_access_key_id = AKIAFILE\r\n"
        "aws_secret_access_key=file-secret-0001\r\n; another comment\n"
        "aws_session_token : file-token-0001\n");
  auto credentials = resolve_aws_credentials(options());
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "AKIAFILE");
  EXPECT_EQ(credentials->secret_access_key, "file-secret-0001");
  EXPECT_EQ(credentials->session_token, "file-token-0001");
  EXPECT_EQ(credentials->source, "profile 'default' in ~/.aws/credentials");
  EXPECT_EQ(mask_secrets("file-secret-0001"), "***");
}

TEST_F(AwsChainTest, AwsProfilePicksASectionAndTheConfigFileServesKeysToo) {
  write(".aws/credentials",
        "[default]\naws_access_key_id = AKIADEFAULT\n"
        "aws_secret_access_key = default-secret\n");
  write(".aws/config",
        "[default]\nregion = us-east-1\n[profile ci]\nregion = eu-west-1\n"
        "s3 =\n  max_concurrent_requests = 4\n"
        "aws_access_key_id = AKIACONFIG\naws_secret_access_key = config-secret\n"
        "[ci]\naws_access_key_id = AKIAWRONG\n");
  m_env["AWS_PROFILE"] = "ci";
  auto credentials = resolve_aws_credentials(options());
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "AKIACONFIG");
  EXPECT_EQ(credentials->source, "profile 'ci' in ~/.aws/config");
  auto region = resolve_aws_region(options());
  ASSERT_TRUE(region.ok());
  EXPECT_EQ(*region, "eu-west-1");
}

TEST_F(AwsChainTest, ExplicitProfileSkipsTheEnvironment) {
  m_env["AWS_ACCESS_KEY_ID"] = "AKIAENVIRONMENT";
  m_env["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  write(".aws/credentials",
        "[deploy]\naws_access_key_id = AKIADEPLOY\n"
        "aws_secret_access_key = deploy-secret\n");
  auto credentials = resolve_aws_credentials(options("deploy"));
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "AKIADEPLOY");
}

TEST_F(AwsChainTest, NamedProfileThatDoesNotExistIsAnError) {
  write(".aws/credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = B\n");
  expect_chain_failure(
      options("prod"), ExitCode::Usage,
      "AWS profile 'prod': not found in ~/.aws/credentials or ~/.aws/config; add it, or "
      "pick another with --profile or AWS_PROFILE");
}

TEST_F(AwsChainTest, SharedFileLocationsFromTheEnvironment) {
  write("elsewhere/creds",
        "[default]\naws_access_key_id = AKIAELSEWHERE\n"
        "aws_secret_access_key = elsewhere-secret\n");
  write("elsewhere/conf", "[profile default]\nregion = ap-south-1\n");
  m_env["AWS_SHARED_CREDENTIALS_FILE"] = "~/elsewhere/creds";
  m_env["AWS_CONFIG_FILE"] = (m_home / "elsewhere/conf").string();
  auto credentials = resolve_aws_credentials(options());
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "AKIAELSEWHERE");
  EXPECT_EQ(credentials->source, "profile 'default' in ~/elsewhere/creds");
  EXPECT_EQ(*resolve_aws_region(options()), "ap-south-1");
}

TEST_F(AwsChainTest, HalfSetProfileIsAnError) {
  write(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\n");
  expect_chain_failure(options(), ExitCode::Usage,
                       "AWS profile 'default' in ~/.aws/credentials: aws_access_key_id is set but "
                       "aws_secret_access_key is not; set both");
}

TEST_F(AwsChainTest, RoleWithoutASourceIsAnError) {
  write(".aws/config", "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\n");
  expect_chain_failure(
      options("ops"), ExitCode::Usage,
      "AWS profile 'ops': role_arn arn:aws:iam::123456789012:role/ops needs source_profile, "
      "credential_source (Environment or Ec2InstanceMetadata) or web_identity_token_file; "
      "add one");
}

TEST_F(AwsChainTest, SourceProfilesThatLoopAreAnError) {
  write(".aws/config",
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n");
  expect_chain_failure(
      options("a"), ExitCode::Usage,
      "AWS profile 'a': source_profile chain is too deep or loops; point source_profile at "
      "a profile with keys");
}

TEST_F(AwsChainTest, CredentialSourceEnvironmentNeedsTheEnvironment) {
  write(".aws/config",
        "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\n"
        "credential_source = Environment\n");
  expect_chain_failure(
      options("ops"), ExitCode::Usage,
      "AWS profile 'ops': credential_source = Environment but AWS_ACCESS_KEY_ID is not set; "
      "set it or change credential_source");
}

TEST_F(AwsChainTest, NothingFoundListsWhereItLooked) {
  expect_chain_failure(
      options(), ExitCode::Unavailable,
      "AWS credentials: none found; looked in the environment (AWS_ACCESS_KEY_ID), web "
      "identity (AWS_ROLE_ARN), ~/.aws/credentials profile 'default', ~/.aws/config, EC2 "
      "instance metadata; set one of them");
}

TEST_F(AwsChainTest, NothingFoundWithMetadataDisabledSaysSo) {
  m_env["AWS_EC2_METADATA_DISABLED"] = "TRUE";
  m_env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "";
  write(".aws/config", "[profile empty]\nregion = eu-west-1\n");
  expect_chain_failure(
      options("empty"), ExitCode::Unavailable,
      "AWS credentials: none found; looked in web identity (AWS_ROLE_ARN), "
      "~/.aws/credentials profile 'empty', ~/.aws/config, EC2 instance metadata (disabled "
      "by AWS_EC2_METADATA_DISABLED); set one of them");
}

TEST_F(AwsChainTest, HalfSetWebIdentityIsAnError) {
  m_env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/ci";
  expect_chain_failure(
      options(), ExitCode::Usage,
      "AWS credentials: AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not; set "
      "both for web identity");
}

TEST_F(AwsChainTest, UnreadableWebIdentityTokenFileIsAnError) {
  m_env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/ci";
  m_env["AWS_WEB_IDENTITY_TOKEN_FILE"] = (m_home / "missing-token").string();
  auto credentials = resolve_aws_credentials(options());
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ExitCode::Usage);
  EXPECT_EQ(credentials.error().message,
            "AWS credentials: web identity token file " + (m_home / "missing-token").string() +
                " (AWS_WEB_IDENTITY_TOKEN_FILE): cannot read it (No such file or directory); "
                "check the path, or for GitHub Actions grant `id-token: write`");
}

TEST_F(AwsChainTest, ContainerCredentialsGoOnlyToTheAgentOrHttps) {
  m_env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://example.com/creds";
  expect_chain_failure(
      options(), ExitCode::Usage,
      "AWS credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI http://example.com/creds: only "
      "https, or http to loopback or the container agent (169.254.170.2, 169.254.170.23), "
      "may receive credentials; fix the URL");
}

TEST_F(AwsChainTest, RegionPrecedence) {
  write(".aws/config", "[default]\nregion = from-profile\n");
  EXPECT_EQ(*resolve_aws_region(options()), "from-profile");
  m_env["AWS_DEFAULT_REGION"] = "from-default-region";
  EXPECT_EQ(*resolve_aws_region(options()), "from-default-region");
  m_env["AWS_REGION"] = "from-region";
  EXPECT_EQ(*resolve_aws_region(options()), "from-region");
  AwsChainOptions with_flag = options();
  with_flag.region = "from-flag";
  EXPECT_EQ(*resolve_aws_region(with_flag), "from-flag");
}

TEST_F(AwsChainTest, NoRegionIsAnErrorThatSaysWhereToSetIt) {
  auto region = resolve_aws_region(options("ci"));
  ASSERT_FALSE(region.ok());
  EXPECT_EQ(region.error().code, ExitCode::Usage);
  EXPECT_EQ(region.error().message,
            "AWS region: not set; pass --region, set AWS_REGION, or add `region = ...` to "
            "profile 'ci' in ~/.aws/config");
}

// The provider, with a resolver that counts its calls and a clock the test moves.
class ProviderTest : public testing::Test {
 protected:
  AwsCredentialProvider make_provider() {
    return AwsCredentialProvider(
        [this]() -> Result<AwsCredentials> {
          ++m_calls;
          if (m_fail) return unavailable("STS: refused");
          AwsCredentials credentials;
          credentials.access_key_id = "AKIA" + std::to_string(m_calls);
          credentials.secret_access_key = "secret";
          if (m_lifetime) credentials.expiration = m_now + *m_lifetime;
          return credentials;
        },
        [this] { return m_now; });
  }

  int m_calls = 0;
  bool m_fail = false;
  std::optional<std::chrono::seconds> m_lifetime;
  SystemTime m_now = std::chrono::system_clock::from_time_t(1'800'000'000);
};

TEST_F(ProviderTest, LongTermKeysAreResolvedOnce) {
  AwsCredentialProvider provider = make_provider();
  EXPECT_EQ(provider.get()->access_key_id, "AKIA1");
  m_now += std::chrono::hours(24);
  EXPECT_EQ(provider.get()->access_key_id, "AKIA1");
  EXPECT_EQ(m_calls, 1);
  provider.invalidate();
  EXPECT_EQ(provider.get()->access_key_id, "AKIA2");
}

TEST_F(ProviderTest, TemporaryCredentialsAreRefreshedFiveMinutesBeforeExpiry) {
  m_lifetime = std::chrono::hours(1);
  AwsCredentialProvider provider = make_provider();
  EXPECT_EQ(provider.get()->access_key_id, "AKIA1");
  m_now += std::chrono::minutes(54);
  EXPECT_EQ(provider.get()->access_key_id, "AKIA1");
  m_now += std::chrono::minutes(2);  // 4 minutes left: inside the margin
  EXPECT_EQ(provider.get()->access_key_id, "AKIA2");
  EXPECT_EQ(m_calls, 2);
}

TEST_F(ProviderTest, CredentialsExpiringWithinTheMarginAreRefreshedOnNextUse) {
  m_lifetime = std::chrono::minutes(1);
  AwsCredentialProvider provider = make_provider();
  EXPECT_EQ(provider.get()->access_key_id, "AKIA1");
  EXPECT_EQ(provider.get()->access_key_id, "AKIA2");
  EXPECT_EQ(m_calls, 2);
}

TEST_F(ProviderTest, AFailedEarlyRefreshKeepsCredentialsThatStillWork) {
  m_lifetime = std::chrono::minutes(10);
  AwsCredentialProvider provider = make_provider();
  EXPECT_EQ(provider.get()->access_key_id, "AKIA1");
  m_fail = true;
  m_now += std::chrono::minutes(7);  // 3 minutes left
  auto still = provider.get();
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->access_key_id, "AKIA1");
  m_now += std::chrono::minutes(4);  // expired
  auto expired = provider.get();
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().message, "STS: refused");
  EXPECT_EQ(m_calls, 3);
}

}  // namespace
}  // namespace switchyard::aws_credentials_test
