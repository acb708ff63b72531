// runner/http.hpp against a real loopback server (tests/support/test_server.py).
#include "runner/net/http.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>

#include "runner/util/sha256.hpp"
#include "tests/support/test_server.hpp"

namespace switchyard {
namespace {

using health_testing::TempDir;
using health_testing::TestServer;
using namespace std::chrono_literals;

boost::json::object json_of(const HttpOutcome& outcome) {
  return boost::json::parse(outcome.response->body).as_object();
}

class HttpTest : public health_testing::SharedTestServer<HttpTest> {
 protected:
  // GET `path` with a body sink that appends what it receives to `received`.
  static HttpOutcome get_into(const std::string& path, std::string& received) {
    HttpRequest request;
    request.url = url(path);
    request.body_sink = [&](std::string_view chunk) {
      received.append(chunk);
      return true;
    };
    return http_send(request);
  }
  // Sends `request` and expects no answer: `failure`, said as `text`.
  static void expect_failure(const HttpRequest& request, TransportFailure failure,
                             const std::string& text) {
    auto outcome = http_send(request);
    EXPECT_FALSE(outcome.response);
    EXPECT_EQ(outcome.failure, failure);
    EXPECT_EQ(outcome.failure_text, text);
  }
};

TEST_F(HttpTest, GetReturnsStatusBodyAndHeaders) {
  HttpRequest request;
  request.url = url("/versioned?v=2.0.0");
  auto outcome = http_send(request);
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  EXPECT_EQ(outcome.failure, TransportFailure::None);
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_EQ(outcome.response->body, R"({"status": "UP"})");
  EXPECT_EQ(outcome.response->header("x-app-version"), "2.0.0");
  EXPECT_EQ(outcome.response->header("X-APP-VERSION"), "2.0.0");
  EXPECT_EQ(outcome.response->header("X-Missing"), "");
}

TEST_F(HttpTest, ErrorStatusIsAnAnswerNotATransportFailure) {
  HttpRequest request;
  request.url = url("/status/503");
  auto outcome = http_send(request);
  ASSERT_TRUE(outcome.response);
  EXPECT_EQ(outcome.response->status, 503);
  EXPECT_EQ(outcome.failure, TransportFailure::None);
}

TEST_F(HttpTest, PostSendsBodyAndHeadersWithoutExpectOrFormContentType) {
  HttpRequest request;
  request.method = "POST";
  request.url = url("/echo");
  request.body = R"({"hello":"world"})";
  request.headers = {{"X-Test", "yes"}};
  auto outcome = http_send(request);
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  auto echo = json_of(outcome);
  EXPECT_EQ(echo["method"].as_string(), "POST");
  EXPECT_EQ(echo["body"].as_string(), R"({"hello":"world"})");
  auto& headers = echo["headers"].as_object();
  EXPECT_EQ(headers["X-Test"].as_string(), "yes");
  EXPECT_FALSE(headers.contains("Expect"));
  EXPECT_FALSE(headers.contains("Content-Type"));
}

TEST_F(HttpTest, CallerContentTypeIsKept) {
  HttpRequest request;
  request.method = "POST";
  request.url = url("/echo");
  request.body = "a=1";
  request.headers = {{"Content-Type", "application/x-amz-json-1.1"}};
  auto outcome = http_send(request);
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  EXPECT_EQ(json_of(outcome)["headers"].as_object()["Content-Type"].as_string(),
            "application/x-amz-json-1.1");
}

TEST_F(HttpTest, PutStreamsABodySourceOfKnownSize) {
  std::string payload(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<char>(i * 31 % 251);
  std::size_t offset = 0;
  int calls = 0;
  HttpRequest request;
  request.method = "PUT";
  request.url = url("/echo");
  request.body_size = payload.size();
  request.body_source = [&](char* buffer, std::size_t capacity) {
    ++calls;
    std::size_t n = std::min(capacity, payload.size() - offset);
    std::memcpy(buffer, payload.data() + offset, n);
    offset += n;
    return n;
  };
  auto outcome = http_send(request);
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  auto echo = json_of(outcome);
  EXPECT_EQ(echo["method"].as_string(), "PUT");
  EXPECT_EQ(echo["body_length"].as_int64(), static_cast<std::int64_t>(payload.size()));
  EXPECT_EQ(echo["body_sha256"].as_string(), sha256_hex(payload));
  EXPECT_GT(calls, 1) << "the body should be read in pieces, not all at once";
}

TEST_F(HttpTest, OtherMethodsAreSentAsGiven) {
  for (const char* method : {"DELETE", "PATCH"}) {
    HttpRequest request;
    request.method = method;
    request.url = url("/echo");
    auto outcome = http_send(request);
    ASSERT_TRUE(outcome.response) << outcome.failure_text;
    EXPECT_EQ(json_of(outcome)["method"].as_string(), method);
  }
  HttpRequest head;
  head.method = "HEAD";
  head.url = url("/versioned?v=3");
  auto outcome = http_send(head);
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_EQ(outcome.response->header("X-App-Version"), "3");
  EXPECT_EQ(outcome.response->body, "");
}

TEST_F(HttpTest, BodySinkReceivesADownloadInsteadOfTheResponse) {
  std::string received;
  auto outcome = get_into("/bytes?n=1000000", received);
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_EQ(outcome.response->body, "");
  ASSERT_EQ(received.size(), 1000000u);
  for (std::size_t i = 0; i < received.size(); i += 4999) {
    ASSERT_EQ(static_cast<unsigned char>(received[i]), i % 256) << "at byte " << i;
  }
}

TEST_F(HttpTest, BodySinkIsSkippedForErrorAnswersSoTheyCanBeQuoted) {
  std::string received;
  auto outcome = get_into("/status/404", received);
  ASSERT_TRUE(outcome.response);
  EXPECT_EQ(outcome.response->status, 404);
  EXPECT_EQ(received, "");
  EXPECT_EQ(outcome.response->body, R"({"error": "status 404"})");
}

TEST_F(HttpTest, BodySinkCanStopTheDownload) {
  HttpRequest request;
  request.url = url("/bytes?n=1000000");
  request.body_sink = [](std::string_view) { return false; };
  expect_failure(request, TransportFailure::Other, "the download was stopped by its receiver");
}

TEST_F(HttpTest, ConnectionRefusedIsNamed) {
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(health_testing::free_port()) + "/health";
  expect_failure(request, TransportFailure::ConnectionRefused, "connection refused");
}

TEST_F(HttpTest, SlowAnswerTimesOutWithTheTimeoutInTheText) {
  HttpRequest request;
  request.url = url("/slow?ms=3000");
  request.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto outcome = http_send(request);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(outcome.response);
  EXPECT_EQ(outcome.failure, TransportFailure::Timeout);
  EXPECT_EQ(outcome.failure_text, "timed out after 300ms");
  EXPECT_LT(elapsed, 2s);
}

TEST_F(HttpTest, ServerClosingWithoutAnswerIsNamed) {
  HttpRequest request;
  request.url = url("/drop");
  expect_failure(request, TransportFailure::Other,
                 "the server closed the connection without answering");
}

TEST_F(HttpTest, UnresolvableHostIsNamed) {
  HttpRequest request;
  request.url = "http://switchyard-test.invalid/health";
  request.timeout = 5s;
  expect_failure(request, TransportFailure::Resolve, "could not resolve the host name");
}

TEST_F(HttpTest, OnlyHttpAndHttpsAreSpoken) {
  HttpRequest request;
  request.url = "file:///etc/passwd";
  auto outcome = http_send(request);
  EXPECT_FALSE(outcome.response);
  EXPECT_EQ(outcome.failure, TransportFailure::Other);
}

TEST_F(HttpTest, LoopbackIgnoresProxyVariables) {
  const char* old_proxy = std::getenv("http_proxy");
  std::string saved = old_proxy ? old_proxy : "";
  ::setenv("http_proxy", "http://127.0.0.1:1", 1);
  HttpRequest request;
  request.url = url("/health");
  auto outcome = http_send(request);
  if (old_proxy) {
    ::setenv("http_proxy", saved.c_str(), 1);
  } else {
    ::unsetenv("http_proxy");
  }
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  EXPECT_EQ(outcome.response->status, 200);
}

TEST(HttpUnixSocket, TalksOverAUnixSocket) {
  TempDir dir;
  auto socket = (dir.path() / "http.sock").string();
  TestServer server({"--unix", socket});
  HttpRequest request;
  request.url = "http://localhost/versioned?v=9.9";
  request.unix_socket = socket;
  auto outcome = http_send(request);
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_EQ(outcome.response->header("X-App-Version"), "9.9");
}

TEST(HttpUnixSocket, MissingSocketIsConnectionRefused) {
  HttpRequest request;
  request.url = "http://localhost/health";
  request.unix_socket = "/nonexistent/switchyard.sock";
  auto outcome = http_send(request);
  EXPECT_EQ(outcome.failure, TransportFailure::ConnectionRefused);
  EXPECT_EQ(outcome.failure_text, "connection refused");
}

class HttpTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { s_tls = new health_testing::TlsTestServer(); }
  static void TearDownTestSuite() {
    delete s_tls;
    s_tls = nullptr;
  }
  static HttpRequest request() {
    HttpRequest made;
    made.url = s_tls->server.url("/health", "https");
    return made;
  }
  static health_testing::TlsTestServer* s_tls;
};

health_testing::TlsTestServer* HttpTlsTest::s_tls = nullptr;

TEST_F(HttpTlsTest, SelfSignedCertificateIsRefusedByDefault) {
  auto outcome = http_send(request());
  EXPECT_FALSE(outcome.response);
  EXPECT_EQ(outcome.failure, TransportFailure::Tls);
  EXPECT_EQ(outcome.failure_text, "TLS: certificate verify failed (self-signed certificate)");
}

TEST_F(HttpTlsTest, CaFileMakesItTrusted) {
  auto made = request();
  made.tls.ca_file = s_tls->certificate.cert.string();
  auto outcome = http_send(made);
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  EXPECT_EQ(outcome.response->status, 200);
}

TEST_F(HttpTlsTest, InsecureSkipsVerification) {
  auto made = request();
  made.tls.insecure = true;
  auto outcome = http_send(made);
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  EXPECT_EQ(outcome.response->status, 200);
}

TEST_F(HttpTlsTest, UnreadableCaFileIsATlsFailure) {
  auto made = request();
  made.tls.ca_file = "/nonexistent/ca.pem";
  auto outcome = http_send(made);
  EXPECT_FALSE(outcome.response);
  EXPECT_EQ(outcome.failure, TransportFailure::Tls);
  EXPECT_EQ(outcome.failure_text.rfind("TLS: ", 0), 0u) << outcome.failure_text;
}

TEST_F(HttpTlsTest, TlsFailuresAreNotRetried) {
  RetryPolicy policy;
  policy.first_backoff = 500ms;
  int rewinds = 0;
  auto start = std::chrono::steady_clock::now();
  auto outcome = http_send_with_retries(request(), policy, [&] { ++rewinds; });
  EXPECT_EQ(outcome.failure, TransportFailure::Tls);
  EXPECT_EQ(rewinds, 0);
  // Three retries would wait at least 250 + 500 + 1000 ms.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
}

long count_for(const std::string& server_url, const std::string& key) {
  HttpRequest request;
  request.url = server_url + "/count?key=" + key;
  auto outcome = http_send(request);
  return boost::json::parse(outcome.response->body).as_object()["count"].as_int64();
}

TEST_F(HttpTest, RetriesFailedAnswersAndRewindsBeforeEachRetry) {
  auto key = unique_key("flaky");
  HttpRequest request;
  request.url = url("/flaky?fail=2&key=" + key);
  RetryPolicy policy;
  policy.first_backoff = 10ms;
  int rewinds = 0;
  auto outcome = http_send_with_retries(request, policy, [&] { ++rewinds; });
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_EQ(rewinds, 2);
  EXPECT_EQ(count_for(s_server->url(""), key), 3);
}

TEST_F(HttpTest, GivesUpAfterTheAttemptsAndReturnsTheLastAnswer) {
  auto key = unique_key("flaky");
  HttpRequest request;
  request.url = url("/flaky?fail=10&code=500&key=" + key);
  RetryPolicy policy;
  policy.attempts = 3;
  policy.first_backoff = 5ms;
  auto outcome = http_send_with_retries(request, policy);
  ASSERT_TRUE(outcome.response);
  EXPECT_EQ(outcome.response->status, 500);
  EXPECT_EQ(count_for(s_server->url(""), key), 3);
}

TEST_F(HttpTest, AnswersOutsideRetryStatusAreNotRetried) {
  auto key = unique_key("flaky");
  HttpRequest request;
  request.url = url("/flaky?fail=1&code=404&key=" + key);
  RetryPolicy policy;
  policy.first_backoff = 5ms;
  auto outcome = http_send_with_retries(request, policy);
  ASSERT_TRUE(outcome.response);
  EXPECT_EQ(outcome.response->status, 404);
  EXPECT_EQ(count_for(s_server->url(""), key), 1);

  policy.retry_status = [](long status) { return status == 404; };
  auto second_key = unique_key("flaky");
  request.url = url("/flaky?fail=1&code=404&key=" + second_key);
  outcome = http_send_with_retries(request, policy);
  ASSERT_TRUE(outcome.response);
  EXPECT_EQ(outcome.response->status, 200);
}

TEST_F(HttpTest, TransportFailuresAreRetriedWithGrowingBackoff) {
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(health_testing::free_port()) + "/";
  RetryPolicy policy;
  policy.attempts = 4;
  policy.first_backoff = 40ms;
  policy.max_backoff = 1s;
  int rewinds = 0;
  auto start = std::chrono::steady_clock::now();
  auto outcome = http_send_with_retries(request, policy, [&] { ++rewinds; });
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(outcome.failure, TransportFailure::ConnectionRefused);
  EXPECT_EQ(rewinds, 3);
  // Waits of 40, 80 and 160 ms, each jittered down to no less than half.
  EXPECT_GE(elapsed, 140ms);
  EXPECT_LT(elapsed, 1s);
}

TEST_F(HttpTest, RetryAfterIsHonouredUpToTheLongestBackoff) {
  auto key = unique_key("retry-after");
  HttpRequest request;
  request.url = url("/retry-after?key=" + key);
  RetryPolicy policy;
  policy.first_backoff = 5ms;
  policy.max_backoff = 2s;
  auto start = std::chrono::steady_clock::now();
  auto outcome = http_send_with_retries(request, policy);
  ASSERT_TRUE(outcome.response);
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 950ms);
}

TEST_F(HttpTest, StreamedUploadIsRewoundAndResentWhole) {
  auto key = unique_key("flaky-put");
  std::string payload(200000, 'x');
  std::size_t offset = 0;
  HttpRequest request;
  request.method = "PUT";
  request.url = url("/flaky?fail=1&key=" + key);
  request.body_size = payload.size();
  request.body_source = [&](char* buffer, std::size_t capacity) {
    std::size_t n = std::min(capacity, payload.size() - offset);
    std::memcpy(buffer, payload.data() + offset, n);
    offset += n;
    return n;
  };
  RetryPolicy policy;
  policy.first_backoff = 5ms;
  auto outcome = http_send_with_retries(request, policy, [&] { offset = 0; });
  ASSERT_TRUE(outcome.response) << outcome.failure_text;
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_EQ(offset, payload.size());
}

}  // namespace
}  // namespace switchyard
