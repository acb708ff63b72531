// AWS's SigV4 signing test suite: every case folder under the vectors
// directory becomes one test, checked byte for byte for both the header and
// the query (presigned URL) variant.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runner/aws/sigv4.hpp"

namespace switchyard::sigv4_vectors {
namespace {

namespace fs = std::filesystem;

// Where the vectors are: $SWITCHYARD_SIGV4_VECTORS when set, else
// shared/vectors/aws-sigv4 beside the source tree or beside any folder above
// it (CI clones the repository with shared/ next to it; a worktree sits a
// level deeper). Empty when there is none.
fs::path vectors_directory() {
  if (const char* env = std::getenv("SWITCHYARD_SIGV4_VECTORS"); env != nullptr && *env != '\0') {
    return env;
  }
  fs::path source = fs::weakly_canonical(SWITCHYARD_SOURCE_DIR);
  for (fs::path dir = source; !dir.empty(); dir = dir.parent_path()) {
    fs::path candidate = dir / "shared" / "vectors" / "aws-sigv4";
    if (fs::is_directory(candidate)) return candidate;
    if (dir == dir.parent_path()) break;
  }
  if (fs::is_directory("/work/shared/vectors/aws-sigv4")) return "/work/shared/vectors/aws-sigv4";
  return {};
}

std::vector<std::string> discover_cases() {
  std::vector<std::string> cases;
  fs::path dir = vectors_directory();
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return cases;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "request.txt")) {
      cases.push_back(entry.path().filename().string());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A raw HTTP/1.1 request as the suite writes it.
struct RawRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  HttpHeaders headers;
  std::string body;
};

// Parses the request line (the target may contain spaces), headers as
// `Name:value` (a line starting with whitespace is an obs-fold continuation
// of the previous header's value: RFC 7230 3.2.4 makes the fold one space, so
// "value1\n  value2" is the one value "value1 value2", never a second value
// that the canonical request would join with a comma), an empty line, then
// the body.
RawRequest parse_request(const std::string& text) {
  RawRequest request;
  std::size_t position = 0;
  auto next_line = [&]() -> std::optional<std::string> {
    if (position >= text.size()) return std::nullopt;
    auto end = text.find('\n', position);
    std::string line =
        text.substr(position, end == std::string::npos ? std::string::npos : end - position);
    position = end == std::string::npos ? text.size() : end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  };

  std::string request_line = next_line().value_or("");
  auto first_space = request_line.find(' ');
  auto last_space = request_line.rfind(' ');
  request.method = request_line.substr(0, first_space);
  std::string target = request_line.substr(first_space + 1, last_space - first_space - 1);
  auto question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string::npos) {
    std::string query = target.substr(question + 1);
    std::size_t start = 0;
    while (start <= query.size()) {
      auto amp = query.find('&', start);
      std::string pair =
          query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      if (!pair.empty()) {
        auto eq = pair.find('=');
        request.query.emplace_back(
            aws_uri_decode(pair.substr(0, eq)),
            eq == std::string::npos ? std::string() : aws_uri_decode(pair.substr(eq + 1)));
      }
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
  }

  while (auto line = next_line()) {
    if (line->empty()) break;
    if ((line->front() == ' ' || line->front() == '\t') && !request.headers.empty()) {
      auto begin = line->find_first_not_of(" \t");
      if (begin != std::string::npos) request.headers.back().second += " " + line->substr(begin);
      continue;
    }
    auto colon = line->find(':');
    request.headers.emplace_back(line->substr(0, colon),
                                 colon == std::string::npos ? "" : line->substr(colon + 1));
  }
  request.body = position < text.size() ? text.substr(position) : std::string();
  return request;
}

std::string header_value(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return "";
}

// Headers compared as a multiset: names case-insensitively, values exactly.
std::vector<std::pair<std::string, std::string>> normalized_headers(const HttpHeaders& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.emplace_back(lower, value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<std::string, std::string>> sorted(
    std::vector<std::pair<std::string, std::string>> pairs) {
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

std::vector<std::pair<std::string, std::string>> decode_query(const std::string& query) {
  RawRequest wrapper = parse_request("GET /?" + query + " HTTP/1.1\n\n");
  return wrapper.query;
}

struct Context {
  AwsCredentials credentials;
  SigV4Options options;
  std::chrono::seconds expires{3600};
  bool sign_body = false;
};

Context parse_context(const std::string& text) {
  boost::json::object json = boost::json::parse(text).as_object();
  Context context;
  const auto& credentials = json.at("credentials").as_object();
  context.credentials.access_key_id = credentials.at("access_key_id").as_string().c_str();
  context.credentials.secret_access_key = credentials.at("secret_access_key").as_string().c_str();
  if (const auto* token = credentials.if_contains("token")) {
    context.credentials.session_token = token->as_string().c_str();
  }
  context.options.region = json.at("region").as_string().c_str();
  context.options.service = json.at("service").as_string().c_str();
  context.options.time = parse_iso8601_utc(json.at("timestamp").as_string().c_str());
  if (const auto* normalize = json.if_contains("normalize")) {
    context.options.normalize_path = normalize->as_bool();
  }
  if (const auto* omit = json.if_contains("omit_session_token")) {
    context.options.omit_session_token = omit->as_bool();
  }
  if (const auto* sign_body = json.if_contains("sign_body")) {
    context.sign_body = sign_body->as_bool();
  }
  if (const auto* expires = json.if_contains("expiration_in_seconds")) {
    context.expires = std::chrono::seconds(expires->to_number<std::int64_t>());
  }
  return context;
}

SigV4Request to_sigv4_request(const RawRequest& raw) {
  SigV4Request request;
  request.method = raw.method;
  request.host = header_value(raw.headers, "host");
  request.path = raw.path;
  request.query = raw.query;
  request.headers = raw.headers;
  request.payload = raw.body;
  return request;
}

class SigV4VectorTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    m_dir = vectors_directory() / GetParam();
    m_raw = parse_request(read_file(m_dir / "request.txt"));
    m_context = parse_context(read_file(m_dir / "context.json"));
    ASSERT_TRUE(m_context.options.time.has_value()) << "context.json: unreadable timestamp";
  }

  std::string expected(const std::string& name) {
    fs::path path = m_dir / name;
    EXPECT_TRUE(fs::exists(path)) << path << " is missing";
    return read_file(path);
  }

  fs::path m_dir;
  RawRequest m_raw;
  Context m_context;
};

TEST_P(SigV4VectorTest, HeaderVariant) {
  SigV4Options options = m_context.options;
  // sign_body: the body's hash is signed as x-amz-content-sha256, S3 style.
  options.sign_content_sha256_header = m_context.sign_body;
  SigV4Result result = sign_sigv4(to_sigv4_request(m_raw), m_context.credentials, options);

  EXPECT_EQ(result.canonical_request, expected("header-canonical-request.txt"));
  EXPECT_EQ(result.string_to_sign, expected("header-string-to-sign.txt"));
  EXPECT_EQ(result.signature, expected("header-signature.txt"));

  RawRequest want = parse_request(expected("header-signed-request.txt"));
  HttpHeaders headers = m_raw.headers;
  headers.insert(headers.end(), result.headers_to_add.begin(), result.headers_to_add.end());
  EXPECT_EQ(want.method, m_raw.method);
  EXPECT_EQ(want.path, m_raw.path);
  EXPECT_EQ(sorted(want.query), sorted(decode_query(result.query_string)));
  EXPECT_EQ(normalized_headers(want.headers), normalized_headers(headers));
  EXPECT_EQ(want.body, m_raw.body);
}

TEST_P(SigV4VectorTest, QueryVariant) {
  auto result = presign_sigv4(to_sigv4_request(m_raw), m_context.credentials, m_context.options,
                              m_context.expires);
  ASSERT_TRUE(result.ok()) << result.error().message;

  EXPECT_EQ(result->canonical_request, expected("query-canonical-request.txt"));
  EXPECT_EQ(result->string_to_sign, expected("query-string-to-sign.txt"));
  EXPECT_EQ(result->signature, expected("query-signature.txt"));
  EXPECT_TRUE(result->headers_to_add.empty());

  RawRequest want = parse_request(expected("query-signed-request.txt"));
  EXPECT_EQ(want.method, m_raw.method);
  EXPECT_EQ(want.path, m_raw.path);
  EXPECT_EQ(sorted(want.query), sorted(decode_query(result->query_string)));
  EXPECT_EQ(normalized_headers(want.headers), normalized_headers(m_raw.headers));
  EXPECT_EQ(want.body, m_raw.body);
}

std::string case_name(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(AwsSuite, SigV4VectorTest, testing::ValuesIn(discover_cases()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SigV4VectorTest);

// AWS's get-header-value-multiline case, which ../shared/vectors does not
// hold: a header folded over three lines is one value, its folds single
// spaces. The signature was computed outside switchyard with Python's hmac
// from this canonical request (the same code reproduces the suite's
// get-header-value-trim signature, acc3ed3a...).
TEST(SigV4FoldedHeader, IsOneValueWithSingleSpaces) {
  RawRequest raw = parse_request(
      "GET / HTTP/1.1\n"
      "Host:example.amazonaws.com\n"
      "My-Header1:value1\n"
      "  value2\n"
      "     value3\n"
      "\n");
  ASSERT_EQ(raw.headers.size(), 2u);
  EXPECT_EQ(raw.headers[1],
            (std::pair<std::string, std::string>("My-Header1", "value1 value2 value3")));

  AwsCredentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  SigV4Options options = SigV4Options::for_service("service", "us-east-1");
  options.time = parse_iso8601_utc("2015-08-30T12:36:00Z");
  const std::string canonical =
      "GET\n/\n\n"
      "host:example.amazonaws.com\n"
      "my-header1:value1 value2 value3\n"
      "x-amz-date:20150830T123600Z\n\n"
      "host;my-header1;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const std::string signature = "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd";
  SigV4Result folded = sign_sigv4(to_sigv4_request(raw), credentials, options);
  EXPECT_EQ(folded.canonical_request, canonical);
  EXPECT_EQ(folded.signature, signature);

  // The signer's own trimall, given the raw fold (a caller that did not
  // unfold): leading and trailing whitespace goes, every run of whitespace,
  // line breaks included, becomes one space.
  SigV4Request request = to_sigv4_request(raw);
  request.headers[1].second = "\t value1 \r\n  value2\n\n\v\f value3  \r\n";
  SigV4Result raw_fold = sign_sigv4(request, credentials, options);
  EXPECT_EQ(raw_fold.canonical_request, canonical);
  EXPECT_EQ(raw_fold.signature, signature);
}

// Says where the vectors were looked for when there are none, and fails when
// SWITCHYARD_SIGV4_VECTORS names a folder without cases.
TEST(SigV4Vectors, CasesFound) {
  fs::path dir = vectors_directory();
  const char* env = std::getenv("SWITCHYARD_SIGV4_VECTORS");
  if (dir.empty()) {
    GTEST_SKIP() << "no shared/vectors/aws-sigv4 beside " << SWITCHYARD_SOURCE_DIR
                 << " or above it; set SWITCHYARD_SIGV4_VECTORS";
  }
  const char* origin = env != nullptr && *env != '\0' ? " (SWITCHYARD_SIGV4_VECTORS)" : "";
  ASSERT_TRUE(fs::is_directory(dir)) << dir << origin << ": no such folder";
  EXPECT_FALSE(discover_cases().empty())
      << dir << origin << ": no case folders (with request.txt) in it";
}

}  // namespace
}  // namespace switchyard::sigv4_vectors
