#include "runner/aws/credentials.hpp"

#include <pwd.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "runner/aws/sigv4.hpp"
#include "runner/core/log.hpp"
#include "runner/net/http.hpp"
#include "runner/util/file_descriptor.hpp"
#include "runner/util/process.hpp"
#include "runner/util/strings.hpp"
#include "runner/util/xml.hpp"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_sts_version = "2011-06-15";
constexpr std::string_view k_imds_default_endpoint = "http://169.254.169.254";
constexpr int k_imds_token_ttl_seconds = 21600;

std::optional<std::string> env_of(const AwsChainOptions& options, const std::string& name) {
  if (!options.env) return std::nullopt;
  auto value = options.env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

fs::path home_directory(const AwsChainOptions& options) {
  if (auto home = env_of(options, "HOME")) return *home;
  if (const passwd* entry = getpwuid(getuid()); entry != nullptr && entry->pw_dir != nullptr) {
    return entry->pw_dir;
  }
  return "/";
}

// "~/x" -> "$HOME/x", as the AWS CLI expands its file settings.
fs::path expand_home(const std::string& path, const AwsChainOptions& options) {
  if (path == "~") return home_directory(options);
  if (path.starts_with("~/")) return home_directory(options) / path.substr(2);
  return path;
}

// Where the shared files are, and how to name them in a message: the
// variable's value when one is set, "~/.aws/..." otherwise.
struct SharedFile {
  fs::path path;
  std::string shown;
};

SharedFile credentials_file(const AwsChainOptions& options) {
  if (auto set = env_of(options, "AWS_SHARED_CREDENTIALS_FILE")) {
    return {expand_home(*set, options), *set};
  }
  return {home_directory(options) / ".aws" / "credentials", "~/.aws/credentials"};
}

SharedFile config_file(const AwsChainOptions& options) {
  if (auto set = env_of(options, "AWS_CONFIG_FILE")) return {expand_home(*set, options), *set};
  return {home_directory(options) / ".aws" / "config", "~/.aws/config"};
}

using IniSection = std::map<std::string, std::string>;
using IniFile = std::map<std::string, IniSection>;

// Reads the AWS CLI's INI dialect: `[section]`, `key = value` (or `key:
// value`), whole-line comments with '#' or ';'. Indented lines belong to a
// nested block ("s3 =\n  max_concurrent_requests = 4") and are skipped. A
// missing file is an empty one.
IniFile read_ini(const fs::path& path) {
  IniFile file;
  std::ifstream in(path);
  if (!in) return file;
  IniSection* section = nullptr;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string text(trim(line));
    if (text.empty() || text.front() == '#' || text.front() == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      section = &file[std::string(trim(text.substr(1, text.size() - 2)))];
      continue;
    }
    if (section == nullptr || line.front() == ' ' || line.front() == '\t') continue;
    auto separator = text.find_first_of("=:");
    if (separator == std::string::npos) continue;
    (*section)[std::string(trim(text.substr(0, separator)))] = trim(text.substr(separator + 1));
  }
  return file;
}

// The profile's section in the credentials file ("[name]") or in the config
// file ("[profile name]", or "[default]").
const IniSection* find_credentials_profile(const IniFile& file, const std::string& profile) {
  auto it = file.find(profile);
  return it == file.end() ? nullptr : &it->second;
}

const IniSection* find_config_profile(const IniFile& file, const std::string& profile) {
  auto it = file.find("profile " + profile);
  if (it != file.end()) return &it->second;
  if (profile == "default") {
    it = file.find("default");
    if (it != file.end()) return &it->second;
  }
  return nullptr;
}

std::string value_of(const IniSection* section, const std::string& key) {
  if (section == nullptr) return "";
  auto it = section->find(key);
  return it == section->end() ? "" : it->second;
}

// Everything the chain reads from the two shared files for one profile.
struct Profile {
  std::string name;
  SharedFile credentials;
  SharedFile config;
  const IniSection* in_credentials = nullptr;
  const IniSection* in_config = nullptr;
  IniFile credentials_ini;
  IniFile config_ini;
};

std::unique_ptr<Profile> load_profile(const AwsChainOptions& options) {
  auto profile = std::make_unique<Profile>();
  profile->name = aws_profile_name(options);
  profile->credentials = credentials_file(options);
  profile->config = config_file(options);
  profile->credentials_ini = read_ini(profile->credentials.path);
  profile->config_ini = read_ini(profile->config.path);
  profile->in_credentials = find_credentials_profile(profile->credentials_ini, profile->name);
  profile->in_config = find_config_profile(profile->config_ini, profile->name);
  return profile;
}

// The profile's setting `key`: the credentials file first, then the config.
std::string profile_value(const Profile& profile, const std::string& key) {
  std::string value = value_of(profile.in_credentials, key);
  return value.empty() ? value_of(profile.in_config, key) : value;
}

std::string region_without_flag(const AwsChainOptions& options, const Profile* profile) {
  if (!options.region.empty()) return options.region;
  if (auto region = env_of(options, "AWS_REGION")) return *region;
  if (auto region = env_of(options, "AWS_DEFAULT_REGION")) return *region;
  if (profile != nullptr) return value_of(profile->in_config, "region");
  return "";
}

// --- environment ------------------------------------------------------------

Result<std::optional<AwsCredentials>> from_environment(const AwsChainOptions& options) {
  auto key = env_of(options, "AWS_ACCESS_KEY_ID");
  if (!key) return std::optional<AwsCredentials>();
  auto secret = env_of(options, "AWS_SECRET_ACCESS_KEY");
  if (!secret) {
    return usage_error(
        "AWS credentials: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both, "
        "or unset AWS_ACCESS_KEY_ID to use another source");
  }
  AwsCredentials credentials;
  credentials.access_key_id = *key;
  credentials.secret_access_key = *secret;
  add_secret(credentials.secret_access_key);
  if (auto token = env_of(options, "AWS_SESSION_TOKEN")) {
    credentials.session_token = *token;
    add_secret(credentials.session_token);
  }
  credentials.source = "environment";
  return std::optional<AwsCredentials>(std::move(credentials));
}

// --- STS ----------------------------------------------------------------------

std::string sts_endpoint(const AwsChainOptions& options, const Profile* profile) {
  std::string endpoint;
  if (auto sts = env_of(options, "AWS_ENDPOINT_URL_STS")) {
    endpoint = *sts;
  } else if (auto any = env_of(options, "AWS_ENDPOINT_URL")) {
    endpoint = *any;
  } else {
    std::string region = region_without_flag(options, profile);
    endpoint =
        region.empty() ? "https://sts.amazonaws.com" : "https://sts." + region + ".amazonaws.com";
  }
  while (endpoint.size() > 1 && endpoint.back() == '/')
    endpoint.pop_back();
  return endpoint;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += aws_uri_encode(name, true) + "=" + aws_uri_encode(value, true);
  }
  return out;
}

// Sends an STS query-API call (a form POST) and reads the Credentials block
// of its answer. `sign_with` signs it (AssumeRole); web identity is unsigned.
Result<AwsCredentials> call_sts(const AwsChainOptions& options, const Profile* profile,
                                const std::string& action, const std::string& role_arn,
                                std::vector<std::pair<std::string, std::string>> fields,
                                const AwsCredentials* sign_with) {
  std::string endpoint = sts_endpoint(options, profile);
  fields.insert(fields.begin(), {{"Action", action}, {"Version", std::string(k_sts_version)}});
  HttpRequest request;
  request.method = "POST";
  request.url = endpoint + "/";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                     {"Accept", "application/xml"}};
  request.body = form_encode(fields);
  request.timeout = options.sts_timeout;
  request.connect_timeout = std::min(options.sts_timeout, Duration(std::chrono::seconds(5)));
  request.tls.ca_file = options.ca_file;
  RetryPolicy policy;
  policy.attempts = 3;
  if (sign_with != nullptr) {
    std::string region = region_without_flag(options, profile);
    auto signed_request =
        sign_http_request(request, *sign_with,
                          SigV4Options::for_service("sts", region.empty() ? "us-east-1" : region));
    if (!signed_request) return signed_request.error();
  }

  std::string subject = "AWS credentials: STS " + action + " for " + role_arn + " at " + endpoint;
  HttpOutcome outcome = http_send_with_retries(request, policy);
  if (!outcome.response) {
    return unavailable(subject + ": " + outcome.failure_text +
                       "; check the network, or AWS_ENDPOINT_URL_STS if it is set");
  }
  const HttpResponse& response = *outcome.response;
  if (response.status != 200) {
    std::string code = xml_text(response.body, "Code");
    std::string message = xml_text(response.body, "Message");
    std::string detail = code.empty() ? "HTTP " + std::to_string(response.status)
                                      : code + (message.empty() ? "" : ": " + message);
    std::string hint = action == "AssumeRoleWithWebIdentity"
                           ? "check that the role's trust policy allows this identity provider "
                             "and audience, and that the token is fresh"
                           : "check that the source credentials may call sts:AssumeRole on it";
    return unavailable(subject + " refused: " + detail + "; " + hint);
  }
  AwsCredentials credentials;
  credentials.access_key_id = xml_text(response.body, "AccessKeyId");
  credentials.secret_access_key = xml_text(response.body, "SecretAccessKey");
  credentials.session_token = xml_text(response.body, "SessionToken");
  add_secret(credentials.secret_access_key);
  add_secret(credentials.session_token);
  std::string expiration = xml_text(response.body, "Expiration");
  credentials.expiration = parse_iso8601_utc(expiration);
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty() ||
      credentials.session_token.empty() || !credentials.expiration) {
    return unavailable(subject + ": the answer has no complete Credentials block; is " + endpoint +
                       " an STS endpoint?");
  }
  return credentials;
}

std::string default_session_name() {
  return "switchyard-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
}

Result<AwsCredentials> assume_role_with_web_identity(
    const AwsChainOptions& options, const Profile* profile, const std::string& role_arn,
    const std::string& token_file, const std::string& session_name, const std::string& where) {
  fs::path path = expand_home(token_file, options);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return usage_error("AWS credentials: web identity token file " + path.string() + " (" + where +
                       "): cannot read it (" + errno_text() +
                       "); check the path, or for GitHub Actions grant `id-token: write`");
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string token(trim(text.str()));
  if (token.empty()) {
    return usage_error("AWS credentials: web identity token file " + path.string() + " (" + where +
                       ") is empty; the identity provider did not write a token");
  }
  add_secret(token);
  auto credentials =
      call_sts(options, profile, "AssumeRoleWithWebIdentity", role_arn,
               {{"RoleArn", role_arn},
                {"RoleSessionName", session_name.empty() ? default_session_name() : session_name},
                {"WebIdentityToken", token}},
               nullptr);
  if (credentials) credentials->source = "web identity (" + role_arn + ")";
  return credentials;
}

// --- container credentials (ECS, CodeBuild, EKS Pod Identity) -----------------

// Reads the answer both the container endpoint and instance metadata give:
// JSON with AccessKeyId, SecretAccessKey, Token, Expiration. Anything else is
// exit 3 naming `subject`: `unreachable_advice` follows curl's reason when
// nothing answered, `status_advice` the status when it was not 200.
Result<AwsCredentials> credentials_from_answer(const HttpOutcome& answer,
                                               const std::string& subject,
                                               std::string_view unreachable_advice,
                                               std::string_view status_advice) {
  if (!answer.response) {
    return unavailable(subject + ": " + answer.failure_text + std::string(unreachable_advice));
  }
  if (answer.response->status != 200) {
    return unavailable(subject + ": HTTP " + std::to_string(answer.response->status) +
                       std::string(status_advice));
  }
  const std::string& body = answer.response->body;
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(body, ec);
  if (ec || !json.is_object()) {
    return unavailable(subject + ": the credentials answer is not JSON; try again");
  }
  const auto& object = json.as_object();
  auto text = [&](const char* key) -> std::string {
    const auto* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
  };
  if (std::string code = text("Code"); !code.empty() && code != "Success") {
    return unavailable(subject + ": the service says " + code + "; check the role attached");
  }
  AwsCredentials credentials;
  credentials.access_key_id = text("AccessKeyId");
  credentials.secret_access_key = text("SecretAccessKey");
  credentials.session_token = text("Token");
  add_secret(credentials.secret_access_key);
  add_secret(credentials.session_token);
  credentials.expiration = parse_iso8601_utc(text("Expiration"));
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return unavailable(subject + ": the answer has no AccessKeyId/SecretAccessKey; try again");
  }
  return credentials;
}

// The container credentials endpoint must not receive the authorization
// token anywhere but the container agent: https, or http to loopback or the
// ECS/EKS agent addresses (the rule the AWS SDKs apply).
bool allowed_container_url(const std::string& url) {
  if (url.starts_with("https://")) return true;
  if (!url.starts_with("http://")) return false;
  std::string rest = url.substr(7);
  std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string host = authority;
  if (host.starts_with("[")) {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  return host == "localhost" || host.starts_with("127.") || host == "[::1]" ||
         host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]";
}

Result<std::optional<AwsCredentials>> from_container(const AwsChainOptions& options) {
  std::string url;
  std::string variable;
  if (auto relative = env_of(options, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = "http://169.254.170.2" + *relative;
    variable = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
  } else if (auto full = env_of(options, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
    variable = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
    if (!allowed_container_url(url)) {
      return usage_error("AWS credentials: " + variable + " " + url +
                         ": only https, or http to loopback or the container agent "
                         "(169.254.170.2, 169.254.170.23), may receive credentials; fix the URL");
    }
  } else {
    return std::optional<AwsCredentials>();
  }
  std::string subject = "AWS credentials: container credentials at " + url + " (" + variable + ")";

  HttpRequest request;
  request.url = url;
  request.timeout = std::chrono::seconds(2);
  request.connect_timeout = std::chrono::seconds(2);
  std::string authorization;
  if (auto token_file = env_of(options, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    std::ifstream in(*token_file, std::ios::binary);
    if (!in) {
      return usage_error("AWS credentials: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + *token_file +
                         ": cannot read it (" + errno_text() + "); check the path");
    }
    std::ostringstream text;
    text << in.rdbuf();
    authorization = trim(text.str());
  } else if (auto token = env_of(options, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    authorization = *token;
  }
  if (!authorization.empty()) {
    add_secret(authorization);
    request.headers = {{"Authorization", authorization}};
  }
  RetryPolicy policy;
  policy.attempts = 3;
  policy.first_backoff = std::chrono::milliseconds(100);
  auto credentials = credentials_from_answer(http_send_with_retries(request, policy), subject,
                                             "; is the container agent running?",
                                             "; check the task role and the authorization token");
  if (!credentials) return credentials.error();
  credentials->source = "container credentials (" + variable + ")";
  return std::optional<AwsCredentials>(std::move(*credentials));
}

// --- instance metadata --------------------------------------------------------

std::string imds_endpoint(const AwsChainOptions& options) {
  std::string endpoint = env_of(options, "AWS_EC2_METADATA_SERVICE_ENDPOINT")
                             .value_or(std::string(k_imds_default_endpoint));
  while (endpoint.size() > 1 && endpoint.back() == '/')
    endpoint.pop_back();
  return endpoint;
}

bool imds_disabled(const AwsChainOptions& options) {
  auto disabled = env_of(options, "AWS_EC2_METADATA_DISABLED");
  return disabled && to_lower(*disabled) == "true";
}

HttpRequest imds_request(const AwsChainOptions& options, std::string method, std::string url) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.timeout = options.imds_timeout;
  request.connect_timeout = options.imds_timeout;
  return request;
}

// Instance metadata (IMDSv2): a session token first, then the role's
// credentials. Nothing there (no metadata service, no role) is not an error:
// the chain just has nothing from it. An answer that is plainly broken is.
Result<std::optional<AwsCredentials>> from_instance_metadata(const AwsChainOptions& options) {
  using None = std::optional<AwsCredentials>;
  std::string endpoint = imds_endpoint(options);

  HttpRequest token_request = imds_request(options, "PUT", endpoint + "/latest/api/token");
  token_request.headers = {
      {"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(k_imds_token_ttl_seconds)}};
  HttpOutcome token = http_send(token_request);
  if (!token.response) {
    log::debug("EC2 instance metadata at {}: {}", endpoint, token.failure_text);
    return None();
  }
  if (token.response->status != 200 || token.response->body.empty()) {
    log::debug("EC2 instance metadata at {}: token request answered HTTP {}", endpoint,
               token.response->status);
    return None();
  }
  std::string session_token(trim(token.response->body));
  add_secret(session_token);

  std::string roles_url = endpoint + "/latest/meta-data/iam/security-credentials/";
  HttpRequest roles_request = imds_request(options, "GET", roles_url);
  roles_request.headers = {{"X-aws-ec2-metadata-token", session_token}};
  HttpOutcome roles = http_send(roles_request);
  if (!roles.response || roles.response->status != 200) {
    log::debug("EC2 instance metadata at {}: no IAM role attached to the instance", endpoint);
    return None();
  }
  std::string role(
      trim(std::string_view(roles.response->body).substr(0, roles.response->body.find('\n'))));
  if (role.empty()) return None();

  HttpRequest credentials_request =
      imds_request(options, "GET", roles_url + aws_uri_encode(role, true));
  credentials_request.headers = {{"X-aws-ec2-metadata-token", session_token}};
  HttpOutcome answer = http_send(credentials_request);
  std::string subject =
      "AWS credentials: EC2 instance metadata at " + endpoint + " (role " + role + ")";
  auto credentials = credentials_from_answer(
      answer, subject, "; try again", " for the role's credentials; check the instance profile");
  if (!credentials) return credentials.error();
  credentials->source = "EC2 instance metadata (role " + role + ")";
  return std::optional<AwsCredentials>(std::move(*credentials));
}

// --- shared files -------------------------------------------------------------

// Static keys in the profile's section of one shared file.
Result<std::optional<AwsCredentials>> keys_in_file(const Profile& profile,
                                                   const IniSection* section,
                                                   const SharedFile& file) {
  if (section == nullptr) return std::optional<AwsCredentials>();
  std::string key = value_of(section, "aws_access_key_id");
  std::string secret = value_of(section, "aws_secret_access_key");
  if (key.empty() && secret.empty()) return std::optional<AwsCredentials>();
  std::string where = "AWS profile '" + profile.name + "' in " + file.shown;
  if (key.empty() || secret.empty()) {
    return usage_error(where + ": " +
                       (key.empty() ? "aws_secret_access_key is set but aws_access_key_id is not"
                                    : "aws_access_key_id is set but aws_secret_access_key is not") +
                       "; set both");
  }
  AwsCredentials credentials;
  credentials.access_key_id = key;
  credentials.secret_access_key = secret;
  add_secret(secret);
  credentials.session_token = value_of(section, "aws_session_token");
  add_secret(credentials.session_token);
  credentials.source = "profile '" + profile.name + "' in " + file.shown;
  return std::optional<AwsCredentials>(std::move(credentials));
}

// Static keys in the profile: the credentials file first, then the config.
Result<std::optional<AwsCredentials>> from_profile_keys(const Profile& profile) {
  auto keys = keys_in_file(profile, profile.in_credentials, profile.credentials);
  if (!keys || *keys) return keys;
  return keys_in_file(profile, profile.in_config, profile.config);
}

Result<AwsCredentials> resolve_chain(const AwsChainOptions& options, int depth);

// The credentials that assume the profile's role: its source_profile (which
// may be the profile itself), or its credential_source.
Result<AwsCredentials> role_source_credentials(const AwsChainOptions& options,
                                               const Profile& profile, const std::string& role_arn,
                                               int depth) {
  std::string source_profile = profile_value(profile, "source_profile");
  std::string credential_source = profile_value(profile, "credential_source");
  if (!source_profile.empty() && source_profile == profile.name) {
    // A profile may name itself: its own keys assume the role.
    auto keys = from_profile_keys(profile);
    if (!keys) return keys.error();
    if (!*keys) {
      return usage_error("AWS profile '" + profile.name +
                         "': source_profile names itself but it has no keys; add "
                         "aws_access_key_id and aws_secret_access_key to it");
    }
    return std::move(**keys);
  }
  if (!source_profile.empty()) {
    if (depth >= 4) {
      return usage_error("AWS profile '" + profile.name +
                         "': source_profile chain is too deep or loops; point source_profile at "
                         "a profile with keys");
    }
    AwsChainOptions source_options = options;
    source_options.profile = source_profile;
    return resolve_chain(source_options, depth + 1);
  }
  if (credential_source == "Environment") {
    auto env = from_environment(options);
    if (!env) return env.error();
    if (!*env) {
      return usage_error("AWS profile '" + profile.name +
                         "': credential_source = Environment but AWS_ACCESS_KEY_ID is not set; "
                         "set it or change credential_source");
    }
    return std::move(**env);
  }
  if (credential_source == "Ec2InstanceMetadata") {
    auto imds = from_instance_metadata(options);
    if (!imds) return imds.error();
    if (!*imds) {
      return unavailable("AWS profile '" + profile.name +
                         "': credential_source = Ec2InstanceMetadata but the instance metadata "
                         "service has no credentials; attach an instance profile");
    }
    return std::move(**imds);
  }
  return usage_error("AWS profile '" + profile.name + "': role_arn " + role_arn +
                     " needs source_profile, credential_source (Environment or "
                     "Ec2InstanceMetadata) or web_identity_token_file; add one");
}

// role_arn in a profile: with web_identity_token_file through
// AssumeRoleWithWebIdentity, with source_profile (or credential_source =
// Environment / Ec2InstanceMetadata) through AssumeRole signed by those.
Result<std::optional<AwsCredentials>> from_profile_role(const AwsChainOptions& options,
                                                        const Profile& profile, int depth) {
  std::string role_arn = profile_value(profile, "role_arn");
  if (role_arn.empty()) return std::optional<AwsCredentials>();
  std::string session_name = profile_value(profile, "role_session_name");
  std::string where = "profile '" + profile.name + "'";

  std::string token_file = profile_value(profile, "web_identity_token_file");
  if (!token_file.empty()) {
    auto credentials =
        assume_role_with_web_identity(options, &profile, role_arn, token_file, session_name, where);
    if (!credentials) return credentials.error();
    return std::optional<AwsCredentials>(std::move(*credentials));
  }

  auto source = role_source_credentials(options, profile, role_arn, depth);
  if (!source) return source.error();
  auto credentials =
      call_sts(options, &profile, "AssumeRole", role_arn,
               {{"RoleArn", role_arn},
                {"RoleSessionName", session_name.empty() ? default_session_name() : session_name}},
               &*source);
  if (!credentials) return credentials.error();
  credentials->source = "role " + role_arn + " (profile '" + profile.name + "')";
  return std::optional<AwsCredentials>(std::move(*credentials));
}

// --- credential_process ---------------------------------------------------------

// Splits a credential_process command line the way the AWS CLI does
// (shlex, POSIX rules: whitespace separates, '...' is literal, "..." keeps
// backslash escapes of " and \, a backslash outside quotes escapes the next
// character). No shell runs it. Nullopt for an unclosed quote.
std::optional<std::vector<std::string>> split_command_line(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(std::exchange(word, {}));
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
    } else if (c == '\'') {
      auto end = text.find('\'', i + 1);
      if (end == std::string_view::npos) return std::nullopt;
      word += text.substr(i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() && (text[j + 1] == '"' || text[j + 1] == '\\')) {
          ++j;
        }
        word += text[j];
      }
      if (j >= text.size()) return std::nullopt;
      i = j;
    } else {
      word += c;
    }
  }
  if (in_word) out.push_back(word);
  return out;
}

// credential_process in the profile: runs the command (an argument vector,
// no shell) and reads the JSON it prints: Version 1, AccessKeyId,
// SecretAccessKey, optional SessionToken and Expiration (ISO 8601).
Result<std::optional<AwsCredentials>> from_credential_process(const Profile& profile) {
  std::string command = profile_value(profile, "credential_process");
  if (command.empty()) return std::optional<AwsCredentials>();
  std::string where = "AWS profile '" + profile.name + "': credential_process";
  auto argv = split_command_line(command);
  if (!argv || argv->empty()) {
    return usage_error(where + " has an unclosed quote or no command; fix it in " +
                       profile.config.shown);
  }
  ProcessSpec spec;
  spec.argv = *argv;
  spec.timeout = std::chrono::minutes(1);
  std::string output;
  std::string first_error;
  auto ran = run_process(spec, [&](Stream stream, std::string_view line) {
    if (stream == Stream::Stdout) {
      output += std::string(line) + "\n";
    } else if (first_error.empty()) {
      first_error = std::string(line);
    }
  });
  if (!ran) {
    return unavailable(where + " " + spec.argv[0] + ": " + ran.error().message);
  }
  if (!ran->succeeded()) {
    return unavailable(
        where + " " + spec.argv[0] +
        (ran->timed_out ? " did not finish in 60s" : " exited " + std::to_string(ran->exit_code)) +
        (first_error.empty() ? "" : " (" + first_error + ")") +
        "; run it by hand to see why (e.g. log in again)");
  }
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(output, ec);
  if (ec || !json.is_object()) {
    return unavailable(where + " " + spec.argv[0] +
                       ": its output is not a JSON object; it must print {\"Version\": 1, "
                       "\"AccessKeyId\": ..., \"SecretAccessKey\": ...}");
  }
  const auto& object = json.as_object();
  auto text = [&](const char* key) -> std::string {
    const auto* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
  };
  AwsCredentials credentials;
  credentials.secret_access_key = text("SecretAccessKey");
  credentials.session_token = text("SessionToken");
  add_secret(credentials.secret_access_key);
  add_secret(credentials.session_token);
  const auto* version = object.if_contains("Version");
  if (version == nullptr || !version->is_int64() || version->as_int64() != 1) {
    return unavailable(where + " " + spec.argv[0] +
                       ": its output has no \"Version\": 1; it must follow the AWS CLI's "
                       "credential_process format");
  }
  credentials.access_key_id = text("AccessKeyId");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return unavailable(where + " " + spec.argv[0] +
                       ": its output lacks AccessKeyId or SecretAccessKey; fix the program");
  }
  if (std::string expiration = text("Expiration"); !expiration.empty()) {
    credentials.expiration = parse_iso8601_utc(expiration);
    if (!credentials.expiration) {
      return unavailable(where + " " + spec.argv[0] + ": Expiration " + expiration +
                         " is not an ISO 8601 time; fix the program");
    }
  }
  credentials.source = "credential_process (profile '" + profile.name + "')";
  return std::optional<AwsCredentials>(std::move(credentials));
}

// --- IAM Identity Center (SSO) -------------------------------------------------

std::string sha1_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += k_hex[digest[i] >> 4];
    out += k_hex[digest[i] & 15];
  }
  return out;
}

// An IAM Identity Center profile: sso_session (naming an [sso-session NAME]
// section with sso_start_url and sso_region) or the legacy sso_start_url +
// sso_region in the profile, with sso_account_id and sso_role_name. The
// access token comes from the cache `aws sso login` writes
// (~/.aws/sso/cache/<sha1 of the session name or start URL>.json); the
// portal's GetRoleCredentials turns it into role credentials.
Result<std::optional<AwsCredentials>> from_sso(const AwsChainOptions& options,
                                               const Profile& profile) {
  std::string session = value_of(profile.in_config, "sso_session");
  std::string start_url = value_of(profile.in_config, "sso_start_url");
  if (session.empty() && start_url.empty()) return std::optional<AwsCredentials>();
  std::string where = "AWS profile '" + profile.name + "'";
  std::string sso_region = value_of(profile.in_config, "sso_region");
  std::string cache_key = start_url;
  if (!session.empty()) {
    auto section = profile.config_ini.find("sso-session " + session);
    if (section == profile.config_ini.end()) {
      return usage_error(where + ": sso_session " + session + " has no [sso-session " + session +
                         "] section in " + profile.config.shown + "; run aws configure sso");
    }
    sso_region = value_of(&section->second, "sso_region");
    start_url = value_of(&section->second, "sso_start_url");
    cache_key = session;
  }
  std::string account = value_of(profile.in_config, "sso_account_id");
  std::string role = value_of(profile.in_config, "sso_role_name");
  if (sso_region.empty() || start_url.empty() || account.empty() || role.empty()) {
    return usage_error(where +
                       ": an IAM Identity Center profile needs sso_start_url, "
                       "sso_region, sso_account_id and sso_role_name; run aws configure "
                       "sso");
  }
  std::string login = "aws sso login --profile " + profile.name;
  fs::path cache =
      home_directory(options) / ".aws" / "sso" / "cache" / (sha1_hex(cache_key) + ".json");
  std::ifstream in(cache);
  if (!in) {
    return unavailable(where + ": no IAM Identity Center token in ~/.aws/sso/cache for " +
                       start_url + "; run " + login);
  }
  std::stringstream content;
  content << in.rdbuf();
  boost::system::error_code ec;
  boost::json::value token_json = boost::json::parse(content.str(), ec);
  if (ec || !token_json.is_object()) {
    return unavailable(where + ": " + cache.string() + " is not JSON; run " + login);
  }
  const auto& token_object = token_json.as_object();
  auto token_text = [&](const char* key) -> std::string {
    const auto* value = token_object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
  };
  std::string access_token = token_text("accessToken");
  add_secret(access_token);
  auto expires = parse_iso8601_utc(token_text("expiresAt"));
  if (access_token.empty() || !expires || *expires <= std::chrono::system_clock::now()) {
    return unavailable(where + ": the IAM Identity Center token for " + start_url +
                       " has expired; run " + login);
  }

  std::string endpoint = "https://portal.sso." + sso_region + ".amazonaws.com";
  if (auto set = env_of(options, "AWS_ENDPOINT_URL_SSO")) {
    endpoint = *set;
  } else if (auto any = env_of(options, "AWS_ENDPOINT_URL")) {
    endpoint = *any;
  }
  while (!endpoint.empty() && endpoint.back() == '/')
    endpoint.pop_back();
  HttpRequest request;
  request.url = endpoint + "/federation/credentials?account_id=" + aws_uri_encode(account, true) +
                "&role_name=" + aws_uri_encode(role, true);
  request.headers = {{"x-amz-sso_bearer_token", access_token}};
  request.timeout = options.sts_timeout;
  request.tls.ca_file = options.ca_file;
  HttpOutcome outcome = http_send_with_retries(request, RetryPolicy{});
  if (!outcome.response) {
    return unavailable(where + ": IAM Identity Center at " + endpoint + ": " +
                       outcome.failure_text + "; check the network and sso_region");
  }
  if (outcome.response->status == 401 || outcome.response->status == 403) {
    return unavailable(where + ": IAM Identity Center refused the token (HTTP " +
                       std::to_string(outcome.response->status) + ") for account " + account +
                       " role " + role + "; run " + login + ", and check the role is assigned");
  }
  if (outcome.response->status != 200) {
    return unavailable(where + ": IAM Identity Center GetRoleCredentials answered HTTP " +
                       std::to_string(outcome.response->status) + "; try again");
  }
  boost::json::value answer = boost::json::parse(outcome.response->body, ec);
  const boost::json::object* role_credentials = nullptr;
  if (!ec && answer.is_object()) {
    const auto* member = answer.as_object().if_contains("roleCredentials");
    if (member != nullptr && member->is_object()) role_credentials = &member->as_object();
  }
  if (role_credentials == nullptr) {
    return unavailable(where + ": IAM Identity Center's answer has no roleCredentials; try again");
  }
  auto text = [&](const char* key) -> std::string {
    const auto* value = role_credentials->if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
  };
  AwsCredentials credentials;
  credentials.access_key_id = text("accessKeyId");
  credentials.secret_access_key = text("secretAccessKey");
  credentials.session_token = text("sessionToken");
  add_secret(credentials.secret_access_key);
  add_secret(credentials.session_token);
  if (const auto* expiration = role_credentials->if_contains("expiration");
      expiration != nullptr && (expiration->is_int64() || expiration->is_uint64())) {
    // Milliseconds since the epoch.
    credentials.expiration =
        SystemTime(std::chrono::milliseconds(expiration->to_number<std::int64_t>()));
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return unavailable(where + ": IAM Identity Center's answer lacks the keys; try again");
  }
  credentials.source = "IAM Identity Center (profile '" + profile.name + "', role " + role + ")";
  return std::optional<AwsCredentials>(std::move(credentials));
}

std::string none_found_message(const AwsChainOptions& options, const Profile& profile,
                               bool explicit_profile) {
  std::string message = "AWS credentials: none found; looked in ";
  if (!explicit_profile) message += "the environment (AWS_ACCESS_KEY_ID), ";
  message += "web identity (AWS_ROLE_ARN), " + profile.credentials.shown + " profile '" +
             profile.name + "', " + profile.config.shown + ", EC2 instance metadata";
  if (imds_disabled(options)) message += " (disabled by AWS_EC2_METADATA_DISABLED)";
  message += "; set one of them";
  return message;
}

Result<AwsCredentials> resolve_chain(const AwsChainOptions& options, int depth) {
  bool explicit_profile = !options.profile.empty();
  std::unique_ptr<Profile> profile = load_profile(options);

  // 1. The environment (the AWS CLI skips it when --profile is given).
  if (!explicit_profile && depth == 0) {
    auto env = from_environment(options);
    if (!env) return env.error();
    if (*env) return std::move(**env);
  }

  // A profile someone named must exist; only "default" may be absent.
  bool named = explicit_profile || env_of(options, "AWS_PROFILE").has_value();
  if (named && profile->in_credentials == nullptr && profile->in_config == nullptr) {
    return usage_error("AWS profile '" + profile->name + "': not found in " +
                       profile->credentials.shown + " or " + profile->config.shown +
                       "; add it, or pick another with --profile or AWS_PROFILE");
  }

  // 2. Web identity from the environment (GitHub OIDC, EKS).
  if (depth == 0) {
    auto role_arn = env_of(options, "AWS_ROLE_ARN");
    auto token_file = env_of(options, "AWS_WEB_IDENTITY_TOKEN_FILE");
    if (role_arn && token_file) {
      return assume_role_with_web_identity(options, profile.get(), *role_arn, *token_file,
                                           env_of(options, "AWS_ROLE_SESSION_NAME").value_or(""),
                                           "AWS_WEB_IDENTITY_TOKEN_FILE");
    }
    if (role_arn || token_file) {
      return usage_error(std::string("AWS credentials: ") +
                         (role_arn ? "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not"
                                   : "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not") +
                         "; set both for web identity");
    }
  }

  // 3. A role in the profile, then 4. keys in ~/.aws/credentials, then in
  // ~/.aws/config.
  auto role = from_profile_role(options, *profile, depth);
  if (!role) return role.error();
  if (*role) return std::move(**role);
  // As the AWS CLI orders them: IAM Identity Center, keys in
  // ~/.aws/credentials, credential_process, keys in ~/.aws/config.
  auto sso = from_sso(options, *profile);
  if (!sso) return sso.error();
  if (*sso) return std::move(**sso);
  auto keys = keys_in_file(*profile, profile->in_credentials, profile->credentials);
  if (!keys) return keys.error();
  if (*keys) return std::move(**keys);
  auto process = from_credential_process(*profile);
  if (!process) return process.error();
  if (*process) return std::move(**process);
  keys = keys_in_file(*profile, profile->in_config, profile->config);
  if (!keys) return keys.error();
  if (*keys) return std::move(**keys);

  if (depth > 0) {
    return usage_error("AWS profile '" + profile->name +
                       "' (a source_profile): it has no keys and no role; add "
                       "aws_access_key_id and aws_secret_access_key to it");
  }

  // 5. Container credentials (ECS, CodeBuild, EKS Pod Identity), when the
  // container agent says where they are.
  auto container = from_container(options);
  if (!container) return container.error();
  if (*container) return std::move(**container);

  // 6. EC2 instance metadata.
  if (!imds_disabled(options)) {
    auto imds = from_instance_metadata(options);
    if (!imds) return imds.error();
    if (*imds) return std::move(**imds);
  }
  return unavailable(none_found_message(options, *profile, explicit_profile));
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::string aws_profile_name(const AwsChainOptions& options) {
  if (!options.profile.empty()) return options.profile;
  if (auto profile = env_of(options, "AWS_PROFILE")) return *profile;
  return "default";
}

Result<AwsCredentials> resolve_aws_credentials(const AwsChainOptions& options) {
  auto credentials = resolve_chain(options, 0);
  if (credentials) log::debug("AWS credentials: from {}", credentials->source);
  return credentials;
}

Result<std::string> resolve_aws_region(const AwsChainOptions& options) {
  std::unique_ptr<Profile> profile = load_profile(options);
  std::string region = region_without_flag(options, profile.get());
  if (!region.empty()) return region;
  return usage_error(
      "AWS region: not set; pass --region, set AWS_REGION, or add `region = ...` "
      "to profile '" +
      profile->name + "' in " + profile->config.shown);
}

AwsCredentialProvider::AwsCredentialProvider(AwsChainOptions options)
    : m_resolver([options = std::move(options)] { return resolve_aws_credentials(options); }),
      m_clock([] { return std::chrono::system_clock::now(); }) {}

AwsCredentialProvider::AwsCredentialProvider(Resolver resolver, Clock clock)
    : m_resolver(std::move(resolver)), m_clock(std::move(clock)) {}

Result<AwsCredentials> AwsCredentialProvider::get() {
  std::lock_guard lock(m_mutex);
  SystemTime now = m_clock();
  if (m_cached && (!m_cached->expiration || *m_cached->expiration - now > refresh_margin())) {
    return *m_cached;
  }
  auto fresh = m_resolver();
  if (fresh) {
    m_cached = *fresh;
    return fresh;
  }
  // A failed early refresh is not fatal while the old credentials still have
  // time left; once they have expired it is.
  if (m_cached && m_cached->expiration && *m_cached->expiration > now) {
    log::warn("{} (still using the current credentials until they expire)", fresh.error().message);
    return *m_cached;
  }
  return fresh;
}

void AwsCredentialProvider::invalidate() {
  std::lock_guard lock(m_mutex);
  m_cached.reset();
}

}  // namespace switchyard
