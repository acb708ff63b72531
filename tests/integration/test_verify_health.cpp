// switchyard-verify-health as a user runs it: against the real sample service
// (examples/hello-service on a JVM), and against tests/support/test_server.py
// for what the sample does not do (a composite DOWN body, a slow answer, TLS).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "tests/support/test_server.hpp"

namespace {

using health_testing::CommandResult;
using health_testing::TempDir;
using health_testing::TestServer;
using namespace std::chrono_literals;

std::string verify_health_bin() {
  return std::string(SWITCHYARD_BIN_DIR) + "/switchyard-verify-health";
}

CommandResult verify_health(std::vector<std::string> args,
                            const std::map<std::string, std::string>& env = {}) {
  args.insert(args.begin(), verify_health_bin());
  return health_testing::run(args, env, 60s);
}

// The last line a command wrote to stderr: where its one-line error is, after
// the "error: " the plain-lines adapter puts in front of it.
std::string error_line(const std::string& text) {
  std::string trimmed = text;
  while (!trimmed.empty() && trimmed.back() == '\n')
    trimmed.pop_back();
  auto newline = trimmed.rfind('\n');
  std::string line = newline == std::string::npos ? trimmed : trimmed.substr(newline + 1);
  const std::string prefix = "error: ";
  if (line.rfind(prefix, 0) != 0) return "(no error line; stderr was: " + text + ")";
  return line.substr(prefix.size());
}

long long epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string sample_jar() {
#ifdef SWITCHYARD_SAMPLE_JAR
  std::string jar = SWITCHYARD_SAMPLE_JAR;
#else
  const char* from_env = std::getenv("SWITCHYARD_SAMPLE_JAR");
  std::string jar = from_env ? from_env : "";
#endif
  return !jar.empty() && std::filesystem::exists(jar) ? jar : "";
}

// The sample service on a JVM, on `port`, with extra environment (STARTUP_DELAY_MS,
// FAIL_HEALTH). It notes the epoch-ms of its "hello-service ready at" line.
class SampleService {
 public:
  SampleService(int port, std::map<std::string, std::string> env) : m_port(port) {
    m_pid = health_testing::spawn(
        {"java", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-XX:+UseSerialGC", "-jar",
         sample_jar(), "--server.port=" + std::to_string(port)},
        env, &m_out_fd, &m_err_fd);
    m_reader = std::thread([this] { read_output(); });
  }
  ~SampleService() {
    kill(-m_pid, SIGKILL);
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_reader.join();
    close(m_out_fd);
    close(m_err_fd);
  }
  SampleService(const SampleService&) = delete;
  SampleService& operator=(const SampleService&) = delete;

  std::string url(const std::string& path = "/actuator/health") const {
    return "http://127.0.0.1:" + std::to_string(m_port) + path;
  }
  // The instant it printed as ready, once it did (waiting up to `timeout`).
  std::optional<long long> ready_at(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_mutex);
    m_changed.wait_for(lock, timeout, [&] { return m_ready_at.has_value(); });
    return m_ready_at;
  }

 private:
  void read_output() {
    std::string pending;
    char buffer[1024];
    pollfd fds[2] = {{m_out_fd, POLLIN, 0}, {m_err_fd, POLLIN, 0}};
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
      if (poll(fds, 2, -1) < 0) break;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
        if (n <= 0) {
          fds[i].fd = -1;
          continue;
        }
        if (i == 1) continue;  // stderr is drained, not read
        pending.append(buffer, static_cast<std::size_t>(n));
        note_ready_line(pending);
      }
    }
  }
  void note_ready_line(const std::string& text) {
    static const std::string k_marker = "hello-service ready at ";
    auto at = text.find(k_marker);
    if (at == std::string::npos || text.find('\n', at) == std::string::npos) return;
    std::lock_guard lock(m_mutex);
    if (!m_ready_at) m_ready_at = std::stoll(text.substr(at + k_marker.size()));
    m_changed.notify_all();
  }

  int m_port;
  pid_t m_pid = -1;
  int m_out_fd = -1;
  int m_err_fd = -1;
  std::thread m_reader;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::optional<long long> m_ready_at;
};

#define REQUIRE_SAMPLE_JAR()                                                        \
  if (sample_jar().empty()) {                                                       \
    GTEST_SKIP() << "the sample service jar is not built (needs mvn and java; see " \
                    "examples/hello-service/README.md)";                            \
  }

TEST(VerifyHealthSample, ReadyAfterAStartupDelayIsNoticedAtOnce) {
  REQUIRE_SAMPLE_JAR();
  SampleService service(health_testing::free_port(), {{"STARTUP_DELAY_MS", "1500"}});
  auto result = verify_health({"--timeout", "20s", service.url()});
  long long returned_at = epoch_ms();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto ready_at = service.ready_at(5s);
  ASSERT_TRUE(ready_at) << "the service never printed its ready line";
  long long delay = returned_at - *ready_at;
  // The benchmark measures this properly (bench/readiness.sh); here it only
  // must be "soon", even on a loaded machine where the JVM's first answer
  // alone can take several hundred ms: far below the users' `sleep 10`.
  EXPECT_LT(delay, 1500) << "verify-health returned " << delay << " ms after the service was ready";
  EXPECT_GT(delay, -50);
  EXPECT_GE(result.elapsed, 1500ms);
  EXPECT_NE(result.err.find(service.url() + ": connection refused (attempt 1)"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find(service.url() + ": healthy after "), std::string::npos) << result.err;
}

TEST(VerifyHealthSample, FailHealthIsDownAndExitsOne) {
  REQUIRE_SAMPLE_JAR();
  SampleService service(health_testing::free_port(), {{"FAIL_HEALTH", "1"}});
  ASSERT_TRUE(service.ready_at(20s)) << "the sample service did not start";
  auto result = verify_health({"--timeout", "1s", service.url()});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(error_line(result.err),
            service.url() + ": not healthy after 1s: status DOWN; check the service's log");
  EXPECT_NE(result.err.find("  last status: 503\n"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(R"(  last body: {"status":"DOWN"})"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("  reason: status DOWN ("), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST(VerifyHealthSample, ConnectionRefusedThroughout) {
  std::string url =
      "http://127.0.0.1:" + std::to_string(health_testing::free_port()) + "/actuator/health";
  auto result = verify_health({"--timeout", "1s", url});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(error_line(result.err), url +
                                        ": not healthy after 1s: connection refused; is the "
                                        "service running and listening on that port?");
  EXPECT_NE(result.err.find("  last status: none (no answer)\n"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("  reason: connection refused ("), std::string::npos) << result.err;
  EXPECT_LT(result.elapsed, 3s);
}

// One healthy sample service for the tests that only read from it.
class VerifyHealthRunningSample : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (sample_jar().empty()) return;
    s_service = new SampleService(health_testing::free_port(), {});
    s_ready = s_service->ready_at(20s).has_value();
  }
  static void TearDownTestSuite() {
    delete s_service;
    s_service = nullptr;
  }
  void SetUp() override {
    REQUIRE_SAMPLE_JAR();
    ASSERT_TRUE(s_ready) << "the sample service did not start";
  }
  static SampleService* s_service;
  static bool s_ready;
};

SampleService* VerifyHealthRunningSample::s_service = nullptr;
bool VerifyHealthRunningSample::s_ready = false;

TEST_F(VerifyHealthRunningSample, SeveralUrlsNameOnlyTheUnhealthyOne) {
  std::string refused = "http://127.0.0.1:" + std::to_string(health_testing::free_port()) + "/";
  auto result = verify_health({"--timeout", "1s", "--json", s_service->url(), refused});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(error_line(result.err), refused +
                                        ": not healthy after 1s: connection refused; is the "
                                        "service running and listening on that port?");
  EXPECT_EQ(result.err.find(s_service->url() + ": not healthy"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(s_service->url() + ": healthy after "), std::string::npos)
      << result.err;

  auto json = boost::json::parse(result.out).as_object();
  EXPECT_EQ(json["ok"].as_bool(), false);
  EXPECT_EQ(json["exit_code"].as_int64(), 1);
  EXPECT_EQ(json["healthy"].as_bool(), false);
  auto& urls = json["urls"].as_array();
  ASSERT_EQ(urls.size(), 2u);
  auto& good = urls[0].as_object();
  EXPECT_EQ(good["url"].as_string(), s_service->url());
  EXPECT_EQ(good["healthy"].as_bool(), true);
  EXPECT_EQ(good["attempts"].as_int64(), 1);
  EXPECT_EQ(good["last_status"].as_int64(), 200);
  EXPECT_EQ(good["last_reason"].as_string(), "");
  auto& bad = urls[1].as_object();
  EXPECT_EQ(bad["healthy"].as_bool(), false);
  EXPECT_EQ(bad["last_status"].as_int64(), 0);
  EXPECT_EQ(bad["last_reason"].as_string(), "connection refused");
  EXPECT_EQ(bad["waited_ms"].as_int64(), 1000);
  EXPECT_GE(bad["attempts"].as_int64(), 5);
}

TEST_F(VerifyHealthRunningSample, AllHealthyExitsZeroWithJsonResult) {
  auto result = verify_health({"--timeout", "300ms", "--expect-json", "status=UP", s_service->url(),
                               s_service->url("/version")});
  EXPECT_EQ(result.exit_code, 1) << "/version has no status field: " << result.err;
  result = verify_health({"--json", "--expect-json", "status=UP", "--successes", "2",
                          s_service->url(), s_service->url()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto json = boost::json::parse(result.out).as_object();
  EXPECT_EQ(json["ok"].as_bool(), true);
  EXPECT_EQ(json["healthy"].as_bool(), true);
  EXPECT_LT(json["waited_ms"].as_int64(), 1000);
  EXPECT_EQ(json["urls"].as_array()[0].as_object()["attempts"].as_int64(), 2);
}

TEST_F(VerifyHealthRunningSample, ExpectVersionMatches) {
  auto result = verify_health({"--expect-version", "1.0.0", s_service->url()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  result = verify_health({"--expect-version", "1.0.0", s_service->url("/version")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST_F(VerifyHealthRunningSample, ExpectVersionMismatchExitsOne) {
  auto result =
      verify_health({"--timeout", "500ms", "--expect-version", "2.0.0", s_service->url()});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(error_line(result.err),
            s_service->url() +
                ": not healthy after 500ms: version 1.0.0 expected 2.0.0; another version is "
                "answering; check that the deploy reached this URL");
}

TEST_F(VerifyHealthRunningSample, TheDispatcherRunsTheStep) {
  auto result = health_testing::run(
      {std::string(SWITCHYARD_BIN_DIR) + "/switchyard", "verify-health", s_service->url()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

// The loopback test server: what the sample service does not do.
class VerifyHealthTestServer : public health_testing::SharedTestServer<VerifyHealthTestServer> {};

TEST_F(VerifyHealthTestServer, CompositeBodyNamesTheDownComponents) {
  std::string url = s_server->url("/health/composite-down");
  auto result = verify_health({"--timeout", "1s", url});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(error_line(result.err), url +
                                        ": not healthy after 1s: status DOWN (down: db, "
                                        "diskSpace); check the service's log");
  EXPECT_NE(result.err.find("  last status: 503\n"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("java.net.ConnectException: Connection refused"), std::string::npos)
      << "the last body should be shown: " << result.err;
}

TEST_F(VerifyHealthTestServer, ExpectJsonOnAComponent) {
  std::string url = s_server->url("/health/composite-up");
  auto result = verify_health({"--expect-json", "components.db.status=UP", "--expect-json",
                               "/components/db/details/database=PostgreSQL", url});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  result = verify_health(
      {"--timeout", "300ms", "--expect-json", "/components/db/details/database=MySQL", url});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(
      error_line(result.err),
      url +
          ": not healthy after 300ms: JSON mismatch /components/db/details/database=PostgreSQL "
          "expected MySQL; check the service's log");
}

TEST_F(VerifyHealthTestServer, SlowerThanTheRequestTimeoutIsATimeout) {
  std::string url = s_server->url("/slow?ms=3000");
  auto result = verify_health({"--timeout", "1s", "--request-timeout", "300ms", url});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(error_line(result.err), url +
                                        ": not healthy after 1s: timed out after 300ms; the "
                                        "service did not answer in time; is it stuck or "
                                        "overloaded?");
  EXPECT_LT(result.elapsed, 3s);
}

TEST_F(VerifyHealthTestServer, ExpectStatusIsExact) {
  auto result =
      verify_health({"--expect-status", "204", "--timeout", "300ms", s_server->url("/health")});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(error_line(result.err), s_server->url("/health") +
                                        ": not healthy after 300ms: wrong status 200 (expected "
                                        "204); check the service's log");
  result = verify_health({"--expect-status", "204", s_server->url("/status/204")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

// The probe found verify-health printing `http://user:pw@host/` in its
// progress and error lines: user-info is masked in every line, the JSON
// result included.
TEST_F(VerifyHealthTestServer, UrlUserInfoNeverAppearsInTheOutput) {
  std::string url = s_server->url("/status/503");
  std::string with_userinfo = url;
  with_userinfo.replace(with_userinfo.find("://"), 3, "://probe-user:pw-5e1d9@");
  auto result = verify_health({"--json", "--timeout", "300ms", with_userinfo});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  std::string masked = url;
  masked.replace(masked.find("://"), 3, "://***@");
  for (const auto& text : {result.out, result.err}) {
    EXPECT_EQ(text.find("probe-user"), std::string::npos) << text;
    EXPECT_EQ(text.find("pw-5e1d9"), std::string::npos) << text;
  }
  EXPECT_NE(result.err.find(masked), std::string::npos) << result.err;
  EXPECT_NE(result.out.find(masked), std::string::npos) << result.out;
}

TEST_F(VerifyHealthTestServer, HeaderFromTheEnvironmentNeverAppearsInTheOutput) {
  const std::string token = "Bearer tok-8f3e9a1c55d2";
  // The server echoes the request headers in its body; the expectation fails
  // so the body is printed in the details and in the --json result.
  auto result =
      verify_health({"--json", "--timeout", "300ms", "--header", "Authorization: env:HEALTH_TOKEN",
                     "--expect-json", "method=POST", s_server->url("/echo")},
                    {{"HEALTH_TOKEN", token}});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(result.err.find("tok-8f3e9a1c55d2"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("tok-8f3e9a1c55d2"), std::string::npos) << result.out;
  // The body was printed, with the secret replaced.
  EXPECT_NE(result.err.find(R"("Authorization": "***")"), std::string::npos) << result.err;
  EXPECT_NE(result.out.find(R"(\"Authorization\": \"***\")"), std::string::npos) << result.out;
  // And the header really was sent.
  result = verify_health({"--header", "Authorization: env:HEALTH_TOKEN", "--expect-json",
                          "headers.Authorization=" + token, s_server->url("/echo")},
                         {{"HEALTH_TOKEN", token}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST_F(VerifyHealthTestServer, GitHubOutputsAreWritten) {
  TempDir dir;
  auto output = dir.path() / "github_output";
  auto summary = dir.path() / "github_summary";
  std::ofstream(output).close();
  std::ofstream(summary).close();
  std::string refused = "http://127.0.0.1:" + std::to_string(health_testing::free_port()) + "/";
  auto result = verify_health({"--timeout", "300ms", s_server->url("/health"), refused},
                              {{"GITHUB_ACTIONS", "true"},
                               {"GITHUB_OUTPUT", output.string()},
                               {"GITHUB_STEP_SUMMARY", summary.string()}});
  ASSERT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("::group::wait for healthy"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("::error"), std::string::npos) << result.err;
  std::ifstream summary_in(summary);
  std::string table((std::istreambuf_iterator<char>(summary_in)), std::istreambuf_iterator<char>());
  EXPECT_NE(table.find("| `" + s_server->url("/health") + "` | yes | 1 | "), std::string::npos)
      << table;
  EXPECT_NE(table.find("| `" + refused + "` | **no** | "), std::string::npos) << table;
  EXPECT_NE(table.find(" | 300ms | none | connection refused |"), std::string::npos) << table;
  std::ifstream in(output);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("healthy"), std::string::npos) << text;
  EXPECT_NE(text.find("waited-ms"), std::string::npos) << text;
}

TEST_F(VerifyHealthTestServer, SwitchyardYmlGivesTheUrlAndDefaults) {
  TempDir dir;
  auto config = dir.path() / "switchyard.yml";
  std::string url = s_server->url("/health/composite-down");
  std::ofstream(config) << "verify:\n  url: " << url
                        << "\nhealth:\n  timeout: 300ms\n  interval: 50ms\n"
                           "  headers:\n    X-Probe: env:HEALTH_PROBE_VALUE\n";
  std::map<std::string, std::string> env = {{"HEALTH_PROBE_VALUE", "probe-value-77"}};
  auto result = verify_health({"--config", config.string()}, env);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(error_line(result.err), url +
                                        ": not healthy after 300ms: status DOWN (down: db, "
                                        "diskSpace); check the service's log");
  // A flag beats the environment, which beats the file.
  env["SWITCHYARD_HEALTH__TIMEOUT"] = "400ms";
  result = verify_health({"--config", config.string()}, env);
  EXPECT_NE(error_line(result.err).find(": not healthy after 400ms: "), std::string::npos)
      << result.err;
  result = verify_health({"--config", config.string(), "--timeout", "200ms"}, env);
  EXPECT_NE(error_line(result.err).find(": not healthy after 200ms: "), std::string::npos)
      << result.err;
  // The header from the file is sent, its env: value resolved.
  result = verify_health({"--config", config.string(), "--expect-json",
                          "headers.X-Probe=probe-value-77", s_server->url("/echo")},
                         env);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  // Its variable unset: exit 2 naming the key.
  env["HEALTH_PROBE_VALUE"] = "";
  result = verify_health({"--config", config.string()}, env);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("health.headers X-Probe: environment variable 'HEALTH_PROBE_VALUE' "
                            "is not set"),
            std::string::npos)
      << result.err;
}

TEST_F(VerifyHealthTestServer, BadSettingInSwitchyardYmlExitsTwo) {
  TempDir dir;
  auto config = dir.path() / "switchyard.yml";
  std::ofstream(config) << "health:\n  timeout: soon\n";
  auto result = verify_health({"--config", config.string(), s_server->url("/health")});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("health.timeout"), std::string::npos) << result.err;
}

// TLS with a self-signed certificate the test made with `openssl req`.
class VerifyHealthTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = new TempDir();
    s_certificate = health_testing::make_self_signed_certificate(s_dir->path());
    s_server = new TestServer(
        {"--tls-cert", s_certificate.cert.string(), "--tls-key", s_certificate.key.string()});
  }
  static void TearDownTestSuite() {
    delete s_server;
    delete s_dir;
  }
  static TempDir* s_dir;
  static health_testing::Certificate s_certificate;
  static TestServer* s_server;
};

TempDir* VerifyHealthTls::s_dir = nullptr;
health_testing::Certificate VerifyHealthTls::s_certificate;
TestServer* VerifyHealthTls::s_server = nullptr;

TEST_F(VerifyHealthTls, SelfSignedIsRefusedByDefault) {
  std::string url = s_server->url("/health", "https");
  auto result = verify_health({"--timeout", "500ms", url});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(error_line(result.err),
            url +
                ": not healthy after 500ms: TLS: certificate verify failed (self-signed "
                "certificate); trust its certificate with --cacert FILE, or skip verification "
                "with --insecure");
}

TEST_F(VerifyHealthTls, CacertMakesItTrusted) {
  auto result =
      verify_health({"--cacert", s_certificate.cert.string(), s_server->url("/health", "https")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST_F(VerifyHealthTls, InsecureSkipsVerification) {
  auto result = verify_health({"--insecure", s_server->url("/health", "https")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

// Every malformed input exits 2 at once with one line naming the flag.
TEST(VerifyHealthUsage, MalformedInputExitsTwoNamingTheFlag) {
  std::string url = "http://127.0.0.1:1/health";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{},
       "switchyard-verify-health: no URL given; pass one or more URLs "
       "(http://host:port/actuator/health), or set verify.url in switchyard.yml"},
      {{"ftp://127.0.0.1/health"},
       "URL ftp://127.0.0.1/health: not an http:// or https:// URL; write the whole URL, e.g. "
       "http://127.0.0.1:8080/actuator/health"},
      {{"--timeout", "5x", url},
       "--timeout: health.timeout: '5x': not a duration; write it like 250ms, 30s, 2m or "
       "1h30m"},
      {{"--interval", "0s", url},
       "--interval: health.interval: '0s' is out of range; use at least 1ms"},
      {{"--request-timeout", "30", url},
       "--request-timeout: health.request_timeout: '30': not a duration; write it like "
       "250ms, 30s, 2m or 1h30m"},
      {{"--expect-status", "2xx", url},
       "--expect-status: health.expect_status: '2xx' is not a whole number"},
      {{"--expect-status", "600", url},
       "--expect-status: health.expect_status: '600' is out of range; use from 100 to 599"},
      {{"--expect-json", "status", url},
       "--expect-json: health.expect_json: 'status': expected PATH=VALUE, e.g. status=UP or "
       "/components/db/status=UP"},
      {{"--successes", "0", url},
       "--successes: health.successes: '0' is out of range; use from 1 to 999999"},
      {{"--timeout", "", url},
       "switchyard-verify-health: --timeout: empty value; give it a value or leave the flag out"},
      {{"--timeout=", url},
       "switchyard-verify-health: --timeout: empty value; give it a value or leave the flag out"},
      {{""}, "switchyard-verify-health: url: empty value; give it a value or leave it out"},
      {{"--version", url},
       "switchyard-verify-health: --version prints the program's version and takes no other "
       "argument; the release label is now --release LABEL (build-jar: --release-template T), "
       "see CHANGELOG.md"},
      {{"--header", "Authorization Bearer abc123secret", url},
       "--header #1: expected 'Name: value' (a header name, a colon, then the value; the value "
       "may be env:NAME)"},
      {{"--header", "Authorization: env:HEALTH_TEST_NOT_SET", url},
       "--header Authorization: environment variable 'HEALTH_TEST_NOT_SET' is not set; export "
       "it before running, or pass the value another way"},
      {{"--cacert", "/nonexistent/ca.pem", url},
       "--cacert /nonexistent/ca.pem: no such file; give the PEM file of the CA that signed the "
       "service's certificate"},
      {{"--no-such-flag", url},
       "switchyard-verify-health: The following argument was not expected: --no-such-flag; see "
       "switchyard-verify-health --help"},
      {{"--dry-run", url},
       "switchyard-verify-health: The following argument was not expected: --dry-run; see "
       "switchyard-verify-health --help"},
  };
  for (const auto& c : cases) {
    auto result = verify_health(c.args, {{"HEALTH_TEST_NOT_SET", ""}});
    EXPECT_EQ(result.exit_code, 2) << c.message;
    // Flags CLI11 refuses take the same error path as every other failure.
    EXPECT_EQ(result.err, "error: " + c.message + "\n");
    EXPECT_LT(result.elapsed, 2s) << c.message;
  }
}

TEST(VerifyHealthUsage, HelpListsTheFlagsAndExitCodes) {
  auto result = verify_health({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  for (const char* flag :
       {"--expect-status", "--expect-json", "--expect-version", "--header", "--timeout",
        "--request-timeout", "--interval", "--successes", "--cacert", "--insecure", "--json",
        "--config", "--env", "--version", "Exit codes:", "130  interrupted"}) {
    EXPECT_NE(result.out.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(result.out.find("--dry-run"), std::string::npos);
  result = verify_health({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out.rfind("switchyard-verify-health ", 0), 0u) << result.out;
}

TEST(VerifyHealthSignals, InterruptExits130) {
  std::string url = "http://127.0.0.1:" + std::to_string(health_testing::free_port()) + "/";
  int out_fd = -1;
  int err_fd = -1;
  pid_t pid =
      health_testing::spawn({verify_health_bin(), "--timeout", "30s", url}, {}, &out_fd, &err_fd);
  std::this_thread::sleep_for(300ms);
  auto start = std::chrono::steady_clock::now();
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  auto elapsed = std::chrono::steady_clock::now() - start;
  close(out_fd);
  close(err_fd);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_LT(elapsed, 1s);
}

}  // namespace
