// AWS credentials and region from the standard chain, the way the AWS CLI
// finds them: the environment, web identity (the GitHub OIDC path) through STS
// AssumeRoleWithWebIdentity, the shared files ~/.aws/credentials and
// ~/.aws/config, and EC2 instance metadata (IMDSv2).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "runner/aws/sigv4.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// Reads an environment variable; returns nullopt when it is unset. Tests pass
// their own so they need not change the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv); an empty value counts as unset.
std::optional<std::string> process_env(const std::string& name);

struct AwsChainOptions {
  // --profile. When set it is explicit: the environment keys are skipped, as
  // the AWS CLI does, and a missing profile is an error. Empty means
  // AWS_PROFILE, else "default".
  std::string profile;
  // --region; used for the STS endpoint (and by resolve_aws_region).
  std::string region;
  EnvLookup env = process_env;
  // Instance metadata must not slow down a laptop that has none.
  Duration imds_timeout{std::chrono::seconds(1)};
  Duration sts_timeout{std::chrono::seconds(10)};
  // The CA bundle for STS (tests with a TLS stand-in); empty = system default.
  std::string ca_file;
};

// Looks for credentials once, in order: environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); web identity (AWS_ROLE_ARN +
// AWS_WEB_IDENTITY_TOKEN_FILE [+ AWS_ROLE_SESSION_NAME]) through STS at
// AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL or https://sts.<region>.amazonaws.com;
// the profile in ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE) then
// ~/.aws/config (AWS_CONFIG_FILE), including a role_arn there (with
// web_identity_token_file, source_profile or credential_source); container
// credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI, with
// AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]); EC2 instance metadata (IMDSv2) at
// AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254 unless
// AWS_EC2_METADATA_DISABLED=true.
// Every secret is registered with add_secret the moment it is read.
// Errors: exit 3 when none is found ("AWS credentials: none found; looked in
// ..."), or when STS refuses; exit 2 for a half-set environment, an explicit
// profile that does not exist, or an unreadable token file.
Result<AwsCredentials> resolve_aws_credentials(const AwsChainOptions& options = {});

// The region: `flag` > AWS_REGION > AWS_DEFAULT_REGION > the profile's
// `region` in ~/.aws/config. Exit 2 when none is set, saying where to set it.
Result<std::string> resolve_aws_region(const AwsChainOptions& options = {});

// The profile name the chain uses: options.profile, AWS_PROFILE, "default".
std::string aws_profile_name(const AwsChainOptions& options);

// Hands out credentials and refreshes temporary ones before they expire, so a
// long multipart upload never signs with expired keys. Thread-safe: parts in
// flight on several threads share one provider.
class AwsCredentialProvider {
 public:
  using Resolver = std::function<Result<AwsCredentials>()>;
  using Clock = std::function<SystemTime()>;

  explicit AwsCredentialProvider(AwsChainOptions options = {});
  // For tests: any resolver and clock.
  AwsCredentialProvider(Resolver resolver, Clock clock);

  // The current credentials; resolves again when there are none yet or they
  // expire within refresh_margin().
  Result<AwsCredentials> get();

  // Drops cached credentials (e.g. after a 403 ExpiredToken answer).
  void invalidate();

  // How long before expiry credentials are refreshed (5 minutes).
  static constexpr std::chrono::minutes refresh_margin() { return std::chrono::minutes(5); }

 private:
  Resolver m_resolver;
  Clock m_clock;
  std::mutex m_mutex;
  std::optional<AwsCredentials> m_cached;
};

}  // namespace switchyard
