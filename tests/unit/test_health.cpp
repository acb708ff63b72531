// runner/health.hpp: the answer rules on their own, then wait_healthy against
// a real loopback server (tests/support/test_server.py).
#include "runner/net/health.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <mutex>

#include "tests/support/test_server.hpp"

namespace switchyard {
namespace {

using health_testing::TestServer;
using namespace std::chrono_literals;

boost::json::value json(std::string_view text) {
  return boost::json::parse(text);
}

HttpResponse answer(long status, std::string body, HttpHeaders headers = {}) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

constexpr const char* k_composite_down =
    R"({"status":"DOWN","components":{"db":{"status":"DOWN","details":{"error":"refused"}},)"
    R"("diskSpace":{"status":"OUT_OF_SERVICE"},"ping":{"status":"UP"}}})";

TEST(JsonTextAt, FollowsDottedPathsAndPointers) {
  auto body = json(R"({"status":"UP","components":{"db":{"status":"DOWN"}},
                       "a/b":{"c~d":1},"list":[{"n":1.5},true,null],"count":3})");
  EXPECT_EQ(json_text_at(body, "status"), "UP");
  EXPECT_EQ(json_text_at(body, "components.db.status"), "DOWN");
  EXPECT_EQ(json_text_at(body, "/components/db/status"), "DOWN");
  EXPECT_EQ(json_text_at(body, "/a~1b/c~0d"), "1");
  EXPECT_EQ(json_text_at(body, "list.0.n"), "1.5");
  EXPECT_EQ(json_text_at(body, "/list/1"), "true");
  EXPECT_EQ(json_text_at(body, "list.2"), "null");
  EXPECT_EQ(json_text_at(body, "count"), "3");
  EXPECT_EQ(json_text_at(body, "components.db"), R"({"status":"DOWN"})");
}

TEST(JsonTextAt, MissingPathsAreNone) {
  auto body = json(R"({"status":"UP","list":[1]})");
  EXPECT_EQ(json_text_at(body, "components.db.status"), std::nullopt);
  EXPECT_EQ(json_text_at(body, "status.deeper"), std::nullopt);
  EXPECT_EQ(json_text_at(body, "list.1"), std::nullopt);
  // An index too large for size_t (found by fuzz_health: std::stoul threw).
  EXPECT_EQ(json_text_at(body, "list.99999999999999999999999999"), std::nullopt);
  EXPECT_EQ(json_text_at(body, "list.-1"), std::nullopt);
  EXPECT_EQ(json_text_at(body, "list.x"), std::nullopt);
  EXPECT_EQ(json_text_at(body, "/nope"), std::nullopt);
}

TEST(DownComponents, NamesWhatIsNotUpInBodyOrder) {
  EXPECT_EQ(down_components(json(k_composite_down)), (std::vector<std::string>{"db", "diskSpace"}));
}

TEST(DownComponents, NamesTheDeepestDownComponentOfAComposite) {
  auto body = json(R"({"status":"DOWN","components":{"db":{"status":"DOWN","components":{
      "primary":{"status":"DOWN"},"replica":{"status":"UP"}}},"ping":{"status":"UP"}}})");
  EXPECT_EQ(down_components(body), (std::vector<std::string>{"db.primary"}));
}

TEST(DownComponents, ReadsSpringBoot2Point1Details) {
  auto body = json(R"({"status":"DOWN","details":{"redis":{"status":"DOWN"}}})");
  EXPECT_EQ(down_components(body), (std::vector<std::string>{"redis"}));
}

TEST(DownComponents, NoneWhenUpOrNotSpring) {
  EXPECT_TRUE(
      down_components(json(R"({"status":"UP","components":{"db":{"status":"UP"}}})")).empty());
  EXPECT_TRUE(down_components(json(R"([1,2])")).empty());
  EXPECT_TRUE(down_components(json(R"({"status":"DOWN"})")).empty());
}

TEST(UnhealthyReason, AnyTwoHundredIsHealthyByDefault) {
  HealthExpectation expect;
  EXPECT_EQ(unhealthy_reason(expect, answer(200, "")), "");
  EXPECT_EQ(unhealthy_reason(expect, answer(204, "")), "");
  EXPECT_EQ(unhealthy_reason(expect, answer(301, "")), "wrong status 301 (expected 2xx)");
  EXPECT_EQ(unhealthy_reason(expect, answer(503, "Service Unavailable")),
            "wrong status 503 (expected 2xx)");
}

TEST(UnhealthyReason, ExpectedStatusMustMatchExactly) {
  HealthExpectation expect;
  expect.status = 204;
  EXPECT_EQ(unhealthy_reason(expect, answer(204, "")), "");
  EXPECT_EQ(unhealthy_reason(expect, answer(200, "")), "wrong status 200 (expected 204)");
}

TEST(UnhealthyReason, SpringDownBodyNamesTheDownComponents) {
  HealthExpectation expect;
  EXPECT_EQ(unhealthy_reason(expect, answer(503, k_composite_down)),
            "status DOWN (down: db, diskSpace)");
  EXPECT_EQ(unhealthy_reason(expect, answer(503, R"({"status":"OUT_OF_SERVICE"})")),
            "status OUT_OF_SERVICE");
}

// Found by the health fuzz target: a value quoted from the body could break
// the reason (one log line) in two, the second line of the service's choosing
// (in GitHub Actions, a workflow command). Control characters are escaped.
TEST(UnhealthyReason, IsOneLineWhateverTheBodyHolds) {
  HealthExpectation expect;
  EXPECT_EQ(unhealthy_reason(expect, answer(503, R"({"status":"DOWN\n::add-mask::x\u001b"})")),
            "status DOWN\\n::add-mask::x\\x1b");
  expect.json = {{"version", "1"}};
  EXPECT_EQ(unhealthy_reason(expect, answer(200, R"({"status":"UP","version":"2\r\n\tz"})")),
            "JSON mismatch version=2\\r\\n\\tz expected 1");
}

TEST(UnhealthyReason, JsonExpectationsMustAllHold) {
  HealthExpectation expect;
  expect.json = {{"status", "UP"}, {"/components/db/status", "UP"}};
  EXPECT_EQ(unhealthy_reason(expect,
                             answer(200, R"({"status":"UP","components":{"db":{"status":"UP"}}})")),
            "");
  EXPECT_EQ(unhealthy_reason(
                expect, answer(200, R"({"status":"UP","components":{"db":{"status":"DOWN"}}})")),
            "JSON mismatch /components/db/status=DOWN expected UP");
  EXPECT_EQ(unhealthy_reason(expect, answer(200, k_composite_down)),
            "JSON mismatch status=DOWN expected UP (down: db, diskSpace)");
  EXPECT_EQ(unhealthy_reason(expect, answer(200, R"({"status":"UP"})")),
            "JSON /components/db/status missing (expected UP)");
  EXPECT_EQ(unhealthy_reason(expect, answer(200, "OK")), "body is not JSON (expected status=UP)");
}

TEST(UnhealthyReason, JsonComparesTheScalarsText) {
  HealthExpectation expect;
  expect.json = {{"ready", "true"}, {"replicas", "3"}};
  EXPECT_EQ(unhealthy_reason(expect, answer(200, R"({"ready":true,"replicas":3})")), "");
  EXPECT_EQ(unhealthy_reason(expect, answer(200, R"({"ready":"true","replicas":2})")),
            "JSON mismatch replicas=2 expected 3");
}

TEST(UnhealthyReason, VersionComesFromTheHeaderOrTheVersionField) {
  HealthExpectation expect;
  expect.version = "2.0.0";
  EXPECT_EQ(unhealthy_reason(expect, answer(200, "{}", {{"x-app-version", "2.0.0"}})), "");
  EXPECT_EQ(unhealthy_reason(expect, answer(200, R"({"version":"2.0.0"})")), "");
  EXPECT_EQ(unhealthy_reason(expect, answer(200, "{}", {{"X-App-Version", "1.0.0"}})),
            "version 1.0.0 expected 2.0.0");
  EXPECT_EQ(unhealthy_reason(expect, answer(200, R"({"version":"1.0.0"})")),
            "version 1.0.0 expected 2.0.0");
  EXPECT_EQ(unhealthy_reason(expect, answer(200, R"({"status":"UP"})")),
            "no version in the answer (expected 2.0.0; no X-App-Version header or version field)");
}

TEST(UnhealthyReason, StatusIsJudgedBeforeTheBody) {
  HealthExpectation expect;
  expect.version = "2.0.0";
  expect.json = {{"status", "UP"}};
  EXPECT_EQ(unhealthy_reason(expect, answer(500, "oops", {{"X-App-Version", "1.0.0"}})),
            "wrong status 500 (expected 2xx)");
}

TEST(HealthSummary, OneLinePerUnhealthyUrlStartingWithTheUrl) {
  HealthReport report;
  UrlReport good;
  good.url = "http://127.0.0.1:8081/actuator/health";
  good.healthy = true;
  UrlReport bad;
  bad.url = "http://127.0.0.1:8082/actuator/health";
  bad.last_reason = "status DOWN (down: db)";
  bad.hint = "check the service's log";
  bad.waited = 30s;
  UrlReport refused;
  refused.url = "http://127.0.0.1:8083/";
  refused.last_reason = "connection refused";
  refused.hint = "is the service running and listening on that port?";
  refused.waited = 1500ms;
  report.urls = {good, bad, refused};
  EXPECT_EQ(report.summary(),
            "http://127.0.0.1:8082/actuator/health: not healthy after 30s: status DOWN (down: db); "
            "check the service's log\n"
            "http://127.0.0.1:8083/: not healthy after 1500ms: connection refused; is the service "
            "running and listening on that port?");
}

// wait_healthy against the loopback test server; one server for the suite.
class WaitHealthyTest : public health_testing::SharedTestServer<WaitHealthyTest> {
 protected:
  static HealthCheck check_of(std::vector<std::string> urls) {
    HealthCheck check;
    check.urls = std::move(urls);
    check.timeout = 1s;
    check.request_timeout = 500ms;
    check.interval = 50ms;
    return check;
  }
};

TEST_F(WaitHealthyTest, HealthyAtTheFirstProbe) {
  auto report = wait_healthy(check_of({url("/health")}));
  ASSERT_TRUE(report.healthy) << report.summary();
  ASSERT_EQ(report.urls.size(), 1u);
  EXPECT_EQ(report.urls[0].attempts, 1);
  EXPECT_EQ(report.urls[0].last_status, 200);
  EXPECT_EQ(report.urls[0].last_body, R"({"status": "UP"})");
  EXPECT_LT(report.urls[0].waited, 200ms);
  EXPECT_EQ(report.summary(), "");
}

TEST_F(WaitHealthyTest, NoticesReadinessWithinAboutOneInterval) {
  // The server turns healthy 600 ms after it started; probes come every 100 ms.
  TestServer fresh;
  auto start = std::chrono::steady_clock::now();
  HealthCheck check = check_of({fresh.url("/ready-at?ms=600")});
  check.timeout = 3s;
  check.interval = 100ms;
  auto report = wait_healthy(check);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(report.healthy) << report.summary();
  EXPECT_GE(report.urls[0].attempts, 3);
  EXPECT_EQ(report.urls[0].reasons, (std::vector<std::string>{"status DOWN"}));
  // One interval after the server turned healthy, with room for a loaded machine.
  EXPECT_LT(elapsed, 600ms + 100ms + 400ms);
}

TEST_F(WaitHealthyTest, CountsConsecutiveSuccesses) {
  auto key = unique_key("health");
  HealthCheck check = check_of({url("/sequence?statuses=200,503,200,200,503&key=" + key)});
  check.successes = 2;
  check.interval = 10ms;
  auto report = wait_healthy(check);
  ASSERT_TRUE(report.healthy) << report.summary();
  EXPECT_EQ(report.urls[0].attempts, 4);
  EXPECT_EQ(report.urls[0].reasons, (std::vector<std::string>{"status DOWN"}));
}

TEST_F(WaitHealthyTest, GivesUpAtTheDeadlineWithEveryReason) {
  auto key = unique_key("health");
  HealthCheck check = check_of({url("/sequence?statuses=503,404,500&key=" + key)});
  check.timeout = 600ms;
  auto start = std::chrono::steady_clock::now();
  auto report = wait_healthy(check);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(report.healthy);
  const auto& url_report = report.urls[0];
  EXPECT_EQ(url_report.reasons,
            (std::vector<std::string>{"status DOWN", "wrong status 404 (expected 2xx)",
                                      "wrong status 500 (expected 2xx)"}));
  EXPECT_EQ(url_report.reason_counts[0], 1);
  EXPECT_EQ(url_report.reason_counts[1], 1);
  EXPECT_EQ(url_report.reason_counts[2], url_report.attempts - 2);
  EXPECT_EQ(url_report.last_status, 500);
  EXPECT_EQ(url_report.last_body,
            R"({"error": "status 500", "n": )" + std::to_string(url_report.attempts) + "}");
  EXPECT_EQ(url_report.last_reason, "wrong status 500 (expected 2xx)");
  EXPECT_EQ(url_report.waited, 600ms);
  EXPECT_GE(url_report.attempts, 5);  // every 50 ms for 600 ms, on a loaded machine
  EXPECT_GE(elapsed, 600ms);
  EXPECT_LT(elapsed, 1500ms);
}

TEST_F(WaitHealthyTest, CompositeDownNamesTheComponentsInTheSummary) {
  HealthCheck check = check_of({url("/health/composite-down")});
  check.timeout = 300ms;
  auto report = wait_healthy(check);
  ASSERT_FALSE(report.healthy);
  EXPECT_EQ(report.urls[0].last_status, 503);
  EXPECT_NE(report.urls[0].last_body.find(R"("db": {"status": "DOWN")"), std::string::npos);
  EXPECT_EQ(report.summary(), url("/health/composite-down") +
                                  ": not healthy after 300ms: status DOWN (down: db, diskSpace); "
                                  "check the service's log");
}

TEST_F(WaitHealthyTest, ConnectionRefusedThroughout) {
  std::string refused = "http://127.0.0.1:" + std::to_string(health_testing::free_port()) + "/";
  HealthCheck check = check_of({refused});
  check.timeout = 300ms;
  auto report = wait_healthy(check);
  ASSERT_FALSE(report.healthy);
  EXPECT_EQ(report.urls[0].last_status, 0);
  EXPECT_EQ(report.urls[0].reasons, (std::vector<std::string>{"connection refused"}));
  EXPECT_EQ(report.summary(), refused +
                                  ": not healthy after 300ms: connection refused; is the service "
                                  "running and listening on that port?");
}

TEST_F(WaitHealthyTest, SlowAnswerIsATimeout) {
  HealthCheck check = check_of({url("/slow?ms=2000")});
  check.request_timeout = 200ms;
  check.timeout = 500ms;
  auto report = wait_healthy(check);
  ASSERT_FALSE(report.healthy);
  EXPECT_EQ(report.urls[0].last_reason, "timed out after 200ms");
  EXPECT_EQ(report.urls[0].reasons, (std::vector<std::string>{"timed out after 200ms"}));
  EXPECT_EQ(report.urls[0].hint, "the service did not answer in time; is it stuck or overloaded?");
}

TEST_F(WaitHealthyTest, OnlyTheUnhealthyUrlIsInTheSummary) {
  HealthCheck check = check_of({url("/health"), url("/status/503")});
  check.timeout = 300ms;
  auto report = wait_healthy(check);
  ASSERT_FALSE(report.healthy);
  EXPECT_TRUE(report.urls[0].healthy);
  EXPECT_FALSE(report.urls[1].healthy);
  EXPECT_EQ(report.summary(),
            url("/status/503") + ": not healthy after 300ms: status DOWN; check the service's log");
}

TEST_F(WaitHealthyTest, AllUrlsHealthyMakesTheReportHealthy) {
  auto report = wait_healthy(check_of({url("/health"), url("/health/composite-up")}));
  EXPECT_TRUE(report.healthy) << report.summary();
}

TEST_F(WaitHealthyTest, GiveUpStopsWaitingEarly) {
  HealthCheck check = check_of({url("/status/503")});
  check.timeout = 5s;
  auto start = std::chrono::steady_clock::now();
  check.give_up = [&] { return std::chrono::steady_clock::now() - start > 200ms; };
  auto report = wait_healthy(check);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(report.healthy);
  EXPECT_TRUE(report.gave_up);
  EXPECT_LT(elapsed, 600ms);
  std::string prefix = url("/status/503") + ": not healthy after ";
  EXPECT_EQ(report.summary().rfind(prefix, 0), 0u) << report.summary();
  EXPECT_NE(report.summary().find(" (stopped early): status DOWN"), std::string::npos)
      << report.summary();
}

TEST_F(WaitHealthyTest, SendsTheHeadersAndChecksJsonAndVersion) {
  HealthCheck check = check_of({url("/echo")});
  check.headers = {{"X-Probe", "switchyard"}};
  check.expect.json = {{"headers.X-Probe", "switchyard"}, {"method", "GET"}};
  EXPECT_TRUE(wait_healthy(check).healthy);

  check = check_of({url("/versioned?v=2.0.0&where=body")});
  check.expect.version = "2.0.0";
  EXPECT_TRUE(wait_healthy(check).healthy);

  check = check_of({url("/versioned?v=1.0.0")});
  check.expect.version = "2.0.0";
  check.timeout = 200ms;
  auto report = wait_healthy(check);
  EXPECT_FALSE(report.healthy);
  EXPECT_EQ(report.urls[0].last_reason, "version 1.0.0 expected 2.0.0");
}

TEST_F(WaitHealthyTest, LastBodyIsCutToTwoKilobytes) {
  HealthCheck check = check_of({url("/bytes?n=5000")});
  check.expect.status = 204;
  check.timeout = 100ms;
  auto report = wait_healthy(check);
  ASSERT_FALSE(report.healthy);
  EXPECT_EQ(report.urls[0].last_body.size(), 2048u + 3u);
  EXPECT_EQ(report.urls[0].last_reason, "wrong status 200 (expected 204)");
}

TEST_F(WaitHealthyTest, ReportsEachChangeOnce) {
  auto key = unique_key("health");
  std::mutex mutex;
  std::vector<std::string> changes;
  HealthCheck check = check_of({url("/sequence?statuses=503,503,503,404,404,200&key=" + key)});
  check.interval = 10ms;
  check.on_change = [&](const std::string&, int attempt, const std::string& reason) {
    std::lock_guard lock(mutex);
    changes.push_back(std::to_string(attempt) + ":" + reason);
  };
  auto report = wait_healthy(check);
  ASSERT_TRUE(report.healthy) << report.summary();
  EXPECT_EQ(changes,
            (std::vector<std::string>{"1:status DOWN", "4:wrong status 404 (expected 2xx)", "6:"}));
}

}  // namespace
}  // namespace switchyard
