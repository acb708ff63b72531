// steps/verify-health: how flags, settings and defaults become a HealthCheck,
// and the exit-2 message for each malformed input.
#include "steps/verify-health/verify_health.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "runner/core/log.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;

VerifyHealthOptions with_url(std::string url = "http://127.0.0.1:8080/actuator/health") {
  VerifyHealthOptions options;
  options.urls = {std::move(url)};
  return options;
}

// The message of a usage error (exit 2), or a note that there was none.
std::string usage_message(const Result<HealthCheck>& made) {
  if (made.ok()) return "(no error)";
  EXPECT_EQ(made.error().code, ExitCode::Usage) << made.error().message;
  return made.error().message;
}

// A SettingSource over a map, the way switchyard.yml answers after precedence.
SettingSource settings_of(std::map<std::string, std::string> scalars,
                          std::vector<std::string> expect_json = {},
                          std::map<std::string, std::string> headers = {}) {
  SettingSource source;
  source.find = [scalars](std::string_view key) -> std::optional<std::string> {
    auto it = scalars.find(std::string(key));
    if (it == scalars.end()) return std::nullopt;
    return it->second;
  };
  source.list = [expect_json](std::string_view key) {
    return key == "health.expect_json" ? expect_json : std::vector<std::string>();
  };
  source.map = [headers](std::string_view key) {
    return key == "health.headers" ? headers : std::map<std::string, std::string>();
  };
  source.origin = [](std::string_view) { return std::string("switchyard.yml:7"); };
  return source;
}

TEST(MakeHealthCheck, DefaultsMatchTheDocumentedOnes) {
  auto made = make_health_check(with_url(), {});
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->urls, (std::vector<std::string>{"http://127.0.0.1:8080/actuator/health"}));
  EXPECT_EQ(made->timeout, 60s);
  EXPECT_EQ(made->request_timeout, 2s);
  EXPECT_EQ(made->interval, 100ms);
  EXPECT_EQ(made->successes, 1);
  EXPECT_FALSE(made->expect.status);
  EXPECT_TRUE(made->expect.json.empty());
  EXPECT_EQ(made->expect.version, "");
  EXPECT_FALSE(made->tls.insecure);
  EXPECT_EQ(made->tls.ca_file, "");
}

TEST(MakeHealthCheck, FlagsAreTakenAsGiven) {
  auto options = with_url("https://example.test/health");
  options.urls.push_back("http://[::1]:8081/health");
  options.expect_status = "204";
  options.expect_json = {"status=UP", "/components/db/status=UP", "note=a=b"};
  options.expect_version = "2.0.0";
  options.headers = {"X-Probe: yes", "Accept:application/json"};
  options.timeout = "1m30s";
  options.request_timeout = "500ms";
  options.interval = "250ms";
  options.successes = "3";
  options.insecure = true;
  auto made = make_health_check(options, {});
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->urls.size(), 2u);
  EXPECT_EQ(made->expect.status, 204);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(made->expect.json,
            (Pairs{{"status", "UP"}, {"/components/db/status", "UP"}, {"note", "a=b"}}));
  EXPECT_EQ(made->expect.version, "2.0.0");
  EXPECT_EQ(made->headers, (HttpHeaders{{"X-Probe", "yes"}, {"Accept", "application/json"}}));
  EXPECT_EQ(made->timeout, 90s);
  EXPECT_EQ(made->request_timeout, 500ms);
  EXPECT_EQ(made->interval, 250ms);
  EXPECT_EQ(made->successes, 3);
  EXPECT_TRUE(made->tls.insecure);
}

TEST(MakeHealthCheck, SettingsFillWhatFlagsDoNotGive) {
  VerifyHealthOptions options;
  options.timeout = "5s";  // a flag beats the file
  auto settings = settings_of({{"verify.url", "http://127.0.0.1:9000/actuator/health"},
                               {"health.timeout", "30s"},
                               {"health.interval", "50ms"},
                               {"health.expect_status", "200"},
                               {"health.successes", "2"},
                               {"health.insecure", "true"}},
                              {"status=UP"}, {{"X-From-Config", "yes"}});
  auto made = make_health_check(options, {}, settings);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->urls, (std::vector<std::string>{"http://127.0.0.1:9000/actuator/health"}));
  EXPECT_EQ(made->timeout, 5s);
  EXPECT_EQ(made->interval, 50ms);
  EXPECT_EQ(made->request_timeout, 2s);
  EXPECT_EQ(made->expect.status, 200);
  EXPECT_EQ(made->successes, 2);
  EXPECT_EQ(made->expect.version, "");
  EXPECT_EQ(made->expect.json.size(), 1u);
  EXPECT_EQ(made->headers, (HttpHeaders{{"X-From-Config", "yes"}}));
  EXPECT_TRUE(made->tls.insecure);
}

TEST(MakeHealthCheck, UrlsOnTheCommandLineBeatVerifyUrl) {
  auto made = make_health_check(with_url("http://127.0.0.1:1/"), {},
                                settings_of({{"verify.url", "http://127.0.0.1:2/"}}));
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->urls, (std::vector<std::string>{"http://127.0.0.1:1/"}));
}

TEST(MakeHealthCheck, BadSettingsNameWhereTheyCameFrom) {
  EXPECT_EQ(
      usage_message(make_health_check(with_url(), {}, settings_of({{"health.timeout", "5x"}}))),
      "switchyard.yml:7: health.timeout '5x': not a duration; write it like 250ms, 30s, 2m "
      "or 1h30m");
  EXPECT_EQ(usage_message(make_health_check({}, {}, settings_of({{"verify.url", "localhost:80"}}))),
            "switchyard.yml:7: verify.url localhost:80: not an http:// or https:// URL; write the "
            "whole URL, e.g. http://127.0.0.1:8080/actuator/health");
  EXPECT_EQ(usage_message(make_health_check(with_url(), {}, settings_of({}, {"status"}))),
            "switchyard.yml:7: health.expect_json 'status': expected PATH=VALUE, e.g. status=UP "
            "or /components/db/status=UP");
}

TEST(MakeHealthCheck, NoUrlAtAll) {
  EXPECT_EQ(usage_message(make_health_check({}, {})),
            "switchyard-verify-health: no URL given; pass one or more URLs "
            "(http://host:port/actuator/health), or set verify.url in switchyard.yml");
}

TEST(MakeHealthCheck, UrlsMustBeHttpOrHttps) {
  EXPECT_EQ(usage_message(make_health_check(with_url("ftp://host/health"), {})),
            "URL ftp://host/health: not an http:// or https:// URL; write the whole URL, e.g. "
            "http://127.0.0.1:8080/actuator/health");
  EXPECT_EQ(usage_message(make_health_check(with_url("127.0.0.1:8080/health"), {})),
            "URL 127.0.0.1:8080/health: not an http:// or https:// URL; write the whole URL, e.g. "
            "http://127.0.0.1:8080/actuator/health");
  std::string no_host = usage_message(make_health_check(with_url("http://"), {}));
  EXPECT_EQ(no_host.rfind("URL http://: ", 0), 0u) << no_host;
  auto bad_port = usage_message(make_health_check(with_url("http://127.0.0.1:99999/"), {}));
  EXPECT_EQ(bad_port.rfind("URL http://127.0.0.1:99999/: not a valid URL (", 0), 0u) << bad_port;
}

TEST(MakeHealthCheck, DurationsMustParseAndBePositive) {
  auto options = with_url();
  options.timeout = "5x";
  EXPECT_EQ(usage_message(make_health_check(options, {})),
            "--timeout '5x': not a duration; write it like 250ms, 30s, 2m or 1h30m");
  options = with_url();
  options.request_timeout = "2";
  EXPECT_EQ(usage_message(make_health_check(options, {})),
            "--request-timeout '2': not a duration; write it like 250ms, 30s, 2m or 1h30m");
  options = with_url();
  options.interval = "0ms";
  EXPECT_EQ(usage_message(make_health_check(options, {})),
            "--interval '0ms': must be longer than 0");
}

TEST(MakeHealthCheck, ExpectStatusMustBeAStatusCode) {
  for (const char* bad : {"99", "600", "2xx", "abc", "2000"}) {
    auto options = with_url();
    options.expect_status = bad;
    EXPECT_EQ(usage_message(make_health_check(options, {})),
              std::string("--expect-status '") + bad +
                  "': not an HTTP status code; write one from 100 to 599, e.g. 200");
  }
}

TEST(MakeHealthCheck, ExpectJsonNeedsPathEqualsValue) {
  for (const char* bad : {"status", "=UP"}) {
    auto options = with_url();
    options.expect_json = {"status=UP", bad};
    EXPECT_EQ(usage_message(make_health_check(options, {})),
              std::string("--expect-json '") + bad +
                  "': expected PATH=VALUE, e.g. status=UP or /components/db/status=UP");
  }
  auto options = with_url();
  options.expect_json = {"status="};  // an empty value is a value
  EXPECT_TRUE(make_health_check(options, {}).ok());
}

TEST(MakeHealthCheck, SuccessesMustBeAtLeastOne) {
  for (const char* bad : {"0", "-1", "x", "1.5"}) {
    auto options = with_url();
    options.successes = bad;
    EXPECT_EQ(usage_message(make_health_check(options, {})),
              std::string("--successes '") + bad + "': expected a whole number of at least 1");
  }
}

TEST(MakeHealthCheck, CacertMustBeAFile) {
  auto options = with_url();
  options.cacert = "/nonexistent/ca.pem";
  EXPECT_EQ(usage_message(make_health_check(options, {})),
            "--cacert /nonexistent/ca.pem: no such file; give the PEM file of the CA that signed "
            "the service's certificate");
  options.cacert = std::string(SWITCHYARD_SOURCE_DIR) + "/CMakeLists.txt";
  auto made = make_health_check(options, {});
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->tls.ca_file, options.cacert);
}

TEST(MakeHealthCheck, HeaderNeedsANameAndAColonAndIsNotQuotedBack) {
  auto options = with_url();
  options.headers = {"X-Ok: 1", "Authorization Bearer hunter2-secret"};
  auto message = usage_message(make_health_check(options, {}));
  EXPECT_EQ(message,
            "--header #2: expected 'Name: value' (a header name, a colon, then the value; the "
            "value may be env:NAME)");
  options.headers = {"Bad Name: x"};
  EXPECT_EQ(usage_message(make_health_check(options, {})).rfind("--header #1: expected", 0), 0u);
  options.headers = {": x"};
  EXPECT_EQ(usage_message(make_health_check(options, {})).rfind("--header #1: expected", 0), 0u);
}

TEST(MakeHealthCheck, HeaderFromTheEnvironmentIsResolvedAndMasked) {
  auto options = with_url();
  options.headers = {"Authorization: env:HEALTH_TEST_TOKEN"};
  auto made = make_health_check(options, {{"HEALTH_TEST_TOKEN", "Bearer from-env-4c1f"}});
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->headers, (HttpHeaders{{"Authorization", "Bearer from-env-4c1f"}}));
  EXPECT_EQ(mask_secrets("sent Bearer from-env-4c1f"), "sent ***");
}

TEST(MakeHealthCheck, HeaderFromAnUnsetVariableIsAUsageError) {
  auto options = with_url();
  options.headers = {"Authorization: env:HEALTH_TEST_UNSET"};
  EXPECT_EQ(usage_message(make_health_check(options, {})),
            "--header Authorization: environment variable 'HEALTH_TEST_UNSET' is not set; export "
            "it before running, or pass the value another way");
  EXPECT_EQ(usage_message(make_health_check(options, {{"HEALTH_TEST_UNSET", ""}})),
            "--header Authorization: environment variable 'HEALTH_TEST_UNSET' is not set; export "
            "it before running, or pass the value another way");
}

TEST(MakeHealthCheck, LiteralCredentialsAreMaskedToo) {
  auto options = with_url("https://probe:pa55-in-url@example.test/health");
  options.headers = {"X-Api-Key: literal-key-93b2", "X-Trace: visible-trace-id"};
  ASSERT_TRUE(make_health_check(options, {}).ok());
  EXPECT_EQ(mask_secrets("literal-key-93b2 pa55-in-url visible-trace-id"),
            "*** *** visible-trace-id");
}

}  // namespace
}  // namespace switchyard
