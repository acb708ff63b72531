// S3 signatures compared with botocore's (Debian's python3-botocore): a real
// botocore S3 client builds requests for awkward object keys and query
// strings, signs them with S3SigV4Auth / S3SigV4QueryAuth at a fixed time, and
// switchyard signs the same requests; the canonical request, string to sign,
// Authorization header and presigned URLs must agree byte for byte.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "runner/aws/sigv4.hpp"
#include "runner/util/sha256.hpp"

extern char** environ;

namespace switchyard::sigv4_botocore {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* k_python = "/usr/bin/python3";
constexpr const char* k_timestamp = "20261123T154304Z";
constexpr const char* k_access_key = "AKIDEXAMPLE";
constexpr const char* k_secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* k_token = "FwoGZXIvYXdzEXAMPLE//token+with/slashes=";

SystemTime signing_time() {
  return parse_iso8601_utc("2026-11-23T15:43:04Z").value();
}

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sigv4-botocore-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

// Runs `argv` with stdin from `input` and stdout into `output`; returns the
// exit status (-1 when it could not start). botocore must not read the
// developer's own AWS configuration, so the shared files point at /dev/null.
int run(const std::vector<std::string>& argv, const fs::path& input, const fs::path& output) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("AWS_")) continue;
    env_strings.emplace_back(entry);
  }
  env_strings.emplace_back("AWS_CONFIG_FILE=/dev/null");
  env_strings.emplace_back("AWS_SHARED_CREDENTIALS_FILE=/dev/null");
  env_strings.emplace_back("AWS_EC2_METADATA_DISABLED=true");
  std::vector<char*> envp;
  for (auto& s : env_strings)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& s : args)
    argp.push_back(s.data());
  argp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, input.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argp[0], &actions, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Signs every case with botocore in one python process; one result per case.
std::vector<json::object> botocore_sign(const std::vector<json::object>& cases) {
  TempDir dir;
  {
    std::ofstream in(dir.path / "cases.jsonl");
    for (const auto& c : cases)
      in << json::serialize(c) << "\n";
  }
  std::string script = std::string(SWITCHYARD_SOURCE_DIR) + "/tests/support/botocore_sign.py";
  int status = run({k_python, script}, dir.path / "cases.jsonl", dir.path / "results.jsonl");
  EXPECT_EQ(status, 0) << "botocore_sign.py exited with " << status;
  std::vector<json::object> results;
  std::istringstream lines(read_text(dir.path / "results.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) results.push_back(json::parse(line).as_object());
  }
  return results;
}

std::string str(const json::object& object, const char* key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=a;b, Signature=..." -> {a, b}.
std::vector<std::string> signed_header_names(const std::string& authorization) {
  std::vector<std::string> names;
  auto start = authorization.find("SignedHeaders=");
  if (start == std::string::npos) return names;
  start += 14;
  auto end = authorization.find(',', start);
  std::string list = authorization.substr(start, end - start);
  std::istringstream in(list);
  for (std::string name; std::getline(in, name, ';');)
    names.push_back(name);
  return names;
}

std::vector<std::pair<std::string, std::string>> query_pairs(const std::string& url) {
  std::vector<std::pair<std::string, std::string>> pairs;
  auto question = url.find('?');
  if (question == std::string::npos) return pairs;
  std::istringstream in(url.substr(question + 1));
  for (std::string pair; std::getline(in, pair, '&');) {
    auto eq = pair.find('=');
    pairs.emplace_back(aws_uri_decode(pair.substr(0, eq)),
                       eq == std::string::npos ? "" : aws_uri_decode(pair.substr(eq + 1)));
  }
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

std::string url_path(const std::string& url) {
  auto scheme = url.find("://");
  auto start = url.find('/', scheme + 3);
  auto end = url.find('?', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string url_without_query(const std::string& url) {
  return url.substr(0, url.find('?'));
}

// Object keys that trip up hand-written signers, and generated ones mixing
// the same characters.
std::vector<std::string> awkward_keys() {
  std::vector<std::string> keys = {
      "app/1.0.0/app.jar",
      "with space/a b.jar",
      "plus+sign/a+b.jar",
      "double//slash//x.jar",
      "tilde~/x~y.jar",
      "percent%20literal/100%.jar",
      "trailing/slash/",
      "unicode/\xc3\xbc\xc3\xb1\xc3\xaf/\xe6\x97\xa5\xe6\x9c\xac.jar",
      "emoji/\xf0\x9f\x9a\x80.jar",
      "dots/./and/../x.jar",
      "reserved/!$&'()*,;=:@.jar",
      "query-like/a?b=c&d#e.jar",
      "  leading and trailing  ",
      "equals=and&amp",
  };
  const std::string pool = "ab/ +~%._-*!'()&=;,:@$\xc3\xa9";
  std::mt19937 random(20261123);
  std::uniform_int_distribution<std::size_t> length(1, 24);
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  for (int i = 0; i < 16; ++i) {
    std::string key;
    std::size_t n = length(random);
    while (key.size() < n) {
      std::size_t at = pick(random);
      // Keep the two-byte é whole.
      if (static_cast<unsigned char>(pool[at]) >= 0x80) {
        key += "\xc3\xa9";
      } else {
        key += pool[at];
      }
    }
    keys.push_back(key);
  }
  return keys;
}

json::object base_case(const std::string& op, const std::string& key, bool with_token) {
  json::object c;
  c["op"] = op;
  c["bucket"] = "switchyard-artifacts";
  c["key"] = key;
  c["region"] = "eu-west-1";
  c["endpoint"] = nullptr;
  c["addressing"] = "virtual";
  c["access_key"] = k_access_key;
  c["secret_key"] = k_secret_key;
  if (with_token) c["token"] = k_token;
  c["timestamp"] = k_timestamp;
  return c;
}

AwsCredentials credentials_for(const json::object& c) {
  AwsCredentials credentials;
  credentials.access_key_id = str(c, "access_key");
  credentials.secret_access_key = str(c, "secret_key");
  credentials.session_token = str(c, "token");
  return credentials;
}

std::string case_label(const json::object& c) {
  return json::serialize(c);
}

class SigV4Botocore : public testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(k_python)) GTEST_SKIP() << k_python << " is missing; apt-get install python3";
    TempDir dir;
    { std::ofstream(dir.path / "empty"); }
    if (run({k_python, "-c", "import botocore.auth"}, dir.path / "empty", dir.path / "out") != 0) {
      GTEST_SKIP() << "python3-botocore is not installed; apt-get install -y python3-botocore";
    }
  }

  // Signs botocore's captured request again with switchyard and compares.
  void expect_same_signature(const json::object& c, const json::object& result) {
    SCOPED_TRACE(case_label(c));
    ASSERT_EQ(str(result, "error"), "");
    std::string botocore_authorization;
    std::string botocore_content_sha;
    HttpHeaders botocore_headers;
    for (const auto& header : result.at("headers").as_array()) {
      std::string name(header.as_array()[0].as_string());
      std::string value(header.as_array()[1].as_string());
      if (lower(name) == "authorization") botocore_authorization = value;
      if (lower(name) == "x-amz-content-sha256") botocore_content_sha = value;
      botocore_headers.emplace_back(name, value);
    }
    ASSERT_FALSE(botocore_authorization.empty());

    // Keep what botocore signed, less what the signer adds itself, plus the
    // headers a signer must leave out (User-Agent, Expect) to prove we do.
    std::vector<std::string> signed_names = signed_header_names(botocore_authorization);
    HttpRequest request;
    request.method = str(result, "method");
    request.url = str(result, "url");
    request.body = str(result, "body");
    for (const auto& [name, value] : botocore_headers) {
      std::string l = lower(name);
      bool added_by_signer = l == "authorization" || l == "x-amz-date" ||
                             l == "x-amz-security-token" || l == "x-amz-content-sha256";
      bool signed_by_botocore =
          std::find(signed_names.begin(), signed_names.end(), l) != signed_names.end();
      if (!added_by_signer && (signed_by_botocore || l == "user-agent" || l == "expect")) {
        request.headers.emplace_back(name, value);
      }
    }

    SigV4Options options = SigV4Options::s3(str(c, "region"));
    options.time = signing_time();
    // botocore leaves the payload unsigned when asked to, and over https when
    // the request carries a Content-MD5; otherwise it signs the body's hash.
    bool unsigned_payload = c.contains("unsigned_payload") && c.at("unsigned_payload").as_bool();
    if (unsigned_payload) EXPECT_EQ(botocore_content_sha, k_unsigned_payload);
    std::string payload_hash = botocore_content_sha == k_unsigned_payload
                                   ? std::string(k_unsigned_payload)
                                   : sha256_hex(request.body);
    EXPECT_EQ(payload_hash, botocore_content_sha);

    auto ours = sign_http_request(request, credentials_for(c), options, payload_hash);
    ASSERT_TRUE(ours.ok()) << ours.error().message;
    if (!str(result, "canonical_request").empty()) {
      EXPECT_EQ(ours->canonical_request, str(result, "canonical_request"));
      EXPECT_EQ(ours->string_to_sign, str(result, "string_to_sign"));
    }
    EXPECT_EQ(ours->authorization, botocore_authorization);
  }
};

TEST_F(SigV4Botocore, ObjectRequestsWithAwkwardKeysMatch) {
  std::vector<json::object> cases;
  for (const auto& key : awkward_keys()) {
    // Path style against a local endpoint with a session token, PUT with a body.
    json::object put = base_case("PutObject", key, true);
    put["endpoint"] = "http://127.0.0.1:9000";
    put["addressing"] = "path";
    put["body"] = "jar bytes for " + key;
    cases.push_back(put);
    // Virtual-hosted style on AWS over https, GET, long-term keys.
    cases.push_back(base_case("GetObject", key, false));
  }
  std::vector<json::object> results = botocore_sign(cases);
  ASSERT_EQ(results.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    expect_same_signature(cases[i], results[i]);
    // The key is encoded on the request line the way botocore encodes it.
    std::string key(cases[i].at("key").as_string());
    std::string expected_path = cases[i].at("addressing").as_string() == "path"
                                    ? "/switchyard-artifacts/" + aws_uri_encode(key, false)
                                    : "/" + aws_uri_encode(key, false);
    EXPECT_EQ(url_path(str(results[i], "url")), expected_path) << key;
  }
}

TEST_F(SigV4Botocore, QueryStringsMatch) {
  std::vector<json::object> cases;
  for (const auto& key : awkward_keys()) {
    json::object list = base_case("ListObjectsV2", key, true);
    list["params"] = json::object{{"Prefix", key}, {"StartAfter", key + "~"}, {"MaxKeys", 7}};
    cases.push_back(list);
  }
  // Multipart calls: an empty-valued "uploads", an upload id with '+' '/' '=',
  // and an unsigned payload as large uploads use.
  json::object create = base_case("CreateMultipartUpload", "big/app 1.jar", true);
  cases.push_back(create);
  json::object part = base_case("UploadPart", "big/app 1.jar", true);
  part["params"] = json::object{{"UploadId", "2~Zx+y/z=="}, {"PartNumber", 12}};
  part["body"] = "part bytes";
  part["unsigned_payload"] = true;
  cases.push_back(part);
  json::object complete_part = base_case("UploadPart", "big/app 1.jar", false);
  complete_part["params"] = json::object{{"UploadId", "abc"}, {"PartNumber", 1}};
  complete_part["body"] = "signed part";
  complete_part["endpoint"] = "http://127.0.0.1:9000";
  complete_part["addressing"] = "path";
  cases.push_back(complete_part);

  std::vector<json::object> results = botocore_sign(cases);
  ASSERT_EQ(results.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i)
    expect_same_signature(cases[i], results[i]);
}

TEST_F(SigV4Botocore, PresignedGetUrlsMatch) {
  std::vector<json::object> cases;
  for (const auto& key : awkward_keys()) {
    json::object presign = base_case("presign-GetObject", key, true);
    presign["expires"] = 7 * 24 * 3600;
    cases.push_back(presign);
    json::object local = base_case("presign-GetObject", key, false);
    local["endpoint"] = "http://127.0.0.1:9000";
    local["addressing"] = "path";
    local["expires"] = 900;
    cases.push_back(local);
  }
  std::vector<json::object> results = botocore_sign(cases);
  ASSERT_EQ(results.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(case_label(cases[i]));
    ASSERT_EQ(str(results[i], "error"), "");
    std::string botocore_url = str(results[i], "url");
    SigV4Options options = SigV4Options::s3(str(cases[i], "region"));
    options.time = signing_time();
    auto ours = presign_url("GET", url_without_query(botocore_url), credentials_for(cases[i]),
                            options, std::chrono::seconds(cases[i].at("expires").as_int64()));
    ASSERT_TRUE(ours.ok()) << ours.error().message;
    EXPECT_EQ(url_without_query(*ours), url_without_query(botocore_url));
    // Same parameters (X-Amz-Signature included); botocore orders them
    // differently, which does not matter to S3.
    EXPECT_EQ(query_pairs(*ours), query_pairs(botocore_url));
  }
}

// botocore also ships the CRT signer (aws-c-auth) when awscrt is installed: a
// second, independent reference for the same requests.
TEST_F(SigV4Botocore, CrtSignerAgreesToo) {
  std::vector<json::object> cases;
  for (const auto& key : awkward_keys()) {
    json::object put = base_case("PutObject", key, true);
    put["signer"] = "crt";
    put["body"] = "bytes";
    cases.push_back(put);
  }
  std::vector<json::object> results = botocore_sign(cases);
  ASSERT_EQ(results.size(), cases.size());
  if (str(results[0], "error").find("awscrt") != std::string::npos) {
    GTEST_SKIP() << "awscrt is not installed; botocore has no CRT signer here";
  }
  for (std::size_t i = 0; i < cases.size(); ++i)
    expect_same_signature(cases[i], results[i]);
}

}  // namespace
}  // namespace switchyard::sigv4_botocore
