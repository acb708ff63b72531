// steps/verify-health: how flags, switchyard.yml and defaults become a
// HealthCheck (the flags parsed by the step's own CLI::App, through the
// configuration's flag layer), and the exit-2 message for each malformed input.
#include "steps/verify-health/verify_health.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "runner/core/log.hpp"
#include "runner/host/settings.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;
namespace vh = steps::verify_health;

const std::string k_url = "http://127.0.0.1:8080/actuator/health";

// The HealthCheck for verify-health's command line `args` over a
// switchyard.yml holding `yaml` ("" for none), or the first error.
Result<HealthCheck> check_for(std::vector<std::string> args, const std::string& yaml = "",
                              const std::map<std::string, std::string>& environment = {}) {
  CLI::App app;
  CommonOptions common;
  vh::Flags flags;
  vh::add_flags(app, common, flags);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  app.parse(args);
  auto headers = vh::header_entries(flags.headers);
  if (!headers) return headers.error();
  if (!headers->empty()) common.config_flags.maps["health.headers"] = *headers;
  ConfigLoadOptions load;
  load.flags = common.config_flags;
  std::filesystem::path file = std::filesystem::temp_directory_path() /
                               ("switchyard-verify-health-" + std::to_string(::getpid()) + ".yml");
  {
    std::ofstream out(file);
    out << yaml;
  }
  load.path = file;
  auto config = Config::load(load);
  std::filesystem::remove(file);
  if (!config) return config.error();
  return vh::make_health_check(*config, flags, environment);
}

// The message of a usage error (exit 2), or a note that there was none.
std::string usage_message(const Result<HealthCheck>& made) {
  if (made.ok()) return "(no error)";
  EXPECT_EQ(made.error().code, ExitCode::Usage) << made.error().message;
  return made.error().message;
}

TEST(MakeHealthCheck, DefaultsMatchTheDocumentedOnes) {
  auto made = check_for({k_url});
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->urls, (std::vector<std::string>{k_url}));
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
  auto made = check_for({"https://example.test/health",
                         "http://[::1]:8081/health",
                         "--expect-status",
                         "204",
                         "--expect-json",
                         "status=UP",
                         "--expect-json",
                         "/components/db/status=UP",
                         "--expect-json=note=a=b",
                         "--expect-version",
                         "2.0.0",
                         "--header",
                         "X-Probe: yes",
                         "--header",
                         "Accept:application/json",
                         "--timeout",
                         "1m30s",
                         "--request-timeout",
                         "500ms",
                         "--interval=250ms",
                         "--successes",
                         "3",
                         "--insecure"});
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->urls.size(), 2u);
  EXPECT_EQ(made->expect.status, 204);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(made->expect.json,
            (Pairs{{"status", "UP"}, {"/components/db/status", "UP"}, {"note", "a=b"}}));
  EXPECT_EQ(made->expect.version, "2.0.0");
  // By name (health.headers is a map).
  EXPECT_EQ(made->headers, (HttpHeaders{{"Accept", "application/json"}, {"X-Probe", "yes"}}));
  EXPECT_EQ(made->timeout, 90s);
  EXPECT_EQ(made->request_timeout, 500ms);
  EXPECT_EQ(made->interval, 250ms);
  EXPECT_EQ(made->successes, 3);
  EXPECT_TRUE(made->tls.insecure);
}

TEST(MakeHealthCheck, SettingsFillWhatFlagsDoNotGive) {
  auto made = check_for({"--timeout", "5s", "--header", "X-From-Flag: yes"},  // flags beat the file
                        "verify:\n"
                        "  url: http://127.0.0.1:9000/actuator/health\n"
                        "health:\n"
                        "  timeout: 30s\n"
                        "  interval: 50ms\n"
                        "  expect_status: 200\n"
                        "  successes: 2\n"
                        "  insecure: true\n"
                        "  expect_json: [status=UP]\n"
                        "  headers:\n"
                        "    X-From-Config: yes\n"
                        "    X-From-Flag: no\n");
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->urls, (std::vector<std::string>{"http://127.0.0.1:9000/actuator/health"}));
  EXPECT_EQ(made->timeout, 5s);
  EXPECT_EQ(made->interval, 50ms);
  EXPECT_EQ(made->request_timeout, 2s);
  EXPECT_EQ(made->expect.status, 200);
  EXPECT_EQ(made->successes, 2);
  EXPECT_EQ(made->expect.version, "");
  EXPECT_EQ(made->expect.json.size(), 1u);
  // Maps merge entry by entry across the layers, the flag's entry winning.
  EXPECT_EQ(made->headers, (HttpHeaders{{"X-From-Config", "yes"}, {"X-From-Flag", "yes"}}));
  EXPECT_TRUE(made->tls.insecure);
}

TEST(MakeHealthCheck, UrlsOnTheCommandLineBeatVerifyUrl) {
  auto made = check_for({"http://127.0.0.1:1/"}, "verify:\n  url: http://127.0.0.1:2/\n");
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->urls, (std::vector<std::string>{"http://127.0.0.1:1/"}));
}

TEST(MakeHealthCheck, BadSettingsNameWhereTheyCameFrom) {
  std::string file = (std::filesystem::temp_directory_path() /
                      ("switchyard-verify-health-" + std::to_string(::getpid()) + ".yml"))
                         .string();
  EXPECT_EQ(usage_message(check_for({k_url}, "health:\n  timeout: 5x\n")),
            file +
                ":2: health.timeout: '5x': not a duration; write it like 250ms, 30s, 2m or "
                "1h30m");
  EXPECT_EQ(usage_message(check_for({}, "verify:\n  url: localhost:80\n")),
            file +
                ":2: verify.url localhost:80: not an http:// or https:// URL; write the "
                "whole URL, e.g. http://127.0.0.1:8080/actuator/health");
  EXPECT_EQ(usage_message(check_for({k_url}, "health:\n  expect_json: [status]\n")),
            file +
                ":2: health.expect_json: 'status': expected PATH=VALUE, e.g. status=UP or "
                "/components/db/status=UP");
}

TEST(MakeHealthCheck, NoUrlAtAll) {
  EXPECT_EQ(usage_message(check_for({})),
            "switchyard-verify-health: no URL given; pass one or more URLs "
            "(http://host:port/actuator/health), or set verify.url in switchyard.yml");
}

TEST(MakeHealthCheck, UrlsMustBeHttpOrHttps) {
  EXPECT_EQ(usage_message(check_for({"ftp://host/health"})),
            "URL ftp://host/health: not an http:// or https:// URL; write the whole URL, e.g. "
            "http://127.0.0.1:8080/actuator/health");
  EXPECT_EQ(usage_message(check_for({"127.0.0.1:8080/health"})),
            "URL 127.0.0.1:8080/health: not an http:// or https:// URL; write the whole URL, e.g. "
            "http://127.0.0.1:8080/actuator/health");
  std::string no_host = usage_message(check_for({"http://"}));
  EXPECT_EQ(no_host.rfind("URL http://: ", 0), 0u) << no_host;
  auto bad_port = usage_message(check_for({"http://127.0.0.1:99999/"}));
  EXPECT_EQ(bad_port.rfind("URL http://127.0.0.1:99999/: not a valid URL (", 0), 0u) << bad_port;
}

TEST(MakeHealthCheck, DurationsMustParseAndBePositive) {
  EXPECT_EQ(usage_message(check_for({k_url, "--timeout", "5x"})),
            "--timeout: health.timeout: '5x': not a duration; write it like 250ms, 30s, 2m or "
            "1h30m");
  EXPECT_EQ(usage_message(check_for({k_url, "--request-timeout", "2"})),
            "--request-timeout: health.request_timeout: '2': not a duration; write it like "
            "250ms, 30s, 2m or 1h30m");
  EXPECT_EQ(usage_message(check_for({k_url, "--interval", "0ms"})),
            "--interval: health.interval: '0ms' is out of range; use at least 1ms");
}

TEST(MakeHealthCheck, ExpectStatusMustBeAStatusCode) {
  for (const char* bad : {"99", "600", "2000"}) {
    EXPECT_EQ(usage_message(check_for({k_url, "--expect-status", bad})),
              std::string("--expect-status: health.expect_status: '") + bad +
                  "' is out of range; use from 100 to 599");
  }
  for (const char* bad : {"2xx", "abc"}) {
    EXPECT_EQ(
        usage_message(check_for({k_url, "--expect-status", bad})),
        std::string("--expect-status: health.expect_status: '") + bad + "' is not a whole number");
  }
}

TEST(MakeHealthCheck, ExpectJsonNeedsPathEqualsValue) {
  for (const char* bad : {"status", "=UP"}) {
    EXPECT_EQ(usage_message(check_for({k_url, "--expect-json", "status=UP", "--expect-json", bad})),
              std::string("--expect-json: health.expect_json: '") + bad +
                  "': expected PATH=VALUE, e.g. status=UP or /components/db/status=UP");
  }
  // an empty value is a value
  EXPECT_TRUE(check_for({k_url, "--expect-json", "status="}).ok());
}

TEST(MakeHealthCheck, SuccessesMustBeAtLeastOne) {
  for (const char* bad : {"0", "-1"}) {
    EXPECT_EQ(usage_message(check_for({k_url, std::string("--successes=") + bad})),
              std::string("--successes: health.successes: '") + bad +
                  "' is out of range; use from 1 to 999999");
  }
  for (const char* bad : {"x", "1.5"}) {
    EXPECT_EQ(usage_message(check_for({k_url, "--successes", bad})),
              std::string("--successes: health.successes: '") + bad + "' is not a whole number");
  }
}

TEST(MakeHealthCheck, CacertMustBeAFile) {
  EXPECT_EQ(usage_message(check_for({k_url, "--cacert", "/nonexistent/ca.pem"})),
            "--cacert /nonexistent/ca.pem: no such file; give the PEM file of the CA that signed "
            "the service's certificate");
  std::string cacert = std::string(SWITCHYARD_SOURCE_DIR) + "/CMakeLists.txt";
  auto made = check_for({k_url, "--cacert", cacert});
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->tls.ca_file, cacert);
}

TEST(MakeHealthCheck, HeaderNeedsANameAndAColonAndIsNotQuotedBack) {
  auto message = usage_message(
      check_for({k_url, "--header", "X-Ok: 1", "--header", "Authorization Bearer hunter2-secret"}));
  EXPECT_EQ(message,
            "--header #2: expected 'Name: value' (a header name, a colon, then the value; the "
            "value may be env:NAME)");
  EXPECT_EQ(usage_message(check_for({k_url, "--header", "Bad Name: x"}))
                .rfind("--header #1: expected", 0),
            0u);
  EXPECT_EQ(usage_message(check_for({k_url, "--header", ": x"})).rfind("--header #1: expected", 0),
            0u);
}

TEST(MakeHealthCheck, HeaderFromTheEnvironmentIsResolvedAndMasked) {
  auto made = check_for({k_url, "--header", "Authorization: env:HEALTH_TEST_TOKEN"}, "",
                        {{"HEALTH_TEST_TOKEN", "Bearer from-env-4c1f"}});
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->headers, (HttpHeaders{{"Authorization", "Bearer from-env-4c1f"}}));
  EXPECT_EQ(mask_secrets("sent Bearer from-env-4c1f"), "sent ***");
}

TEST(MakeHealthCheck, HeaderFromAnUnsetVariableIsAUsageError) {
  std::vector<std::string> args = {k_url, "--header", "Authorization: env:HEALTH_TEST_UNSET"};
  EXPECT_EQ(usage_message(check_for(args)),
            "--header Authorization: environment variable 'HEALTH_TEST_UNSET' is not set; export "
            "it before running, or pass the value another way");
  EXPECT_EQ(usage_message(check_for(args, "", {{"HEALTH_TEST_UNSET", ""}})),
            "--header Authorization: environment variable 'HEALTH_TEST_UNSET' is not set; export "
            "it before running, or pass the value another way");
}

TEST(MakeHealthCheck, LiteralCredentialsAreMaskedToo) {
  ASSERT_TRUE(check_for({"https://probe:pa55-in-url@example.test/health", "--header",
                         "X-Api-Key: literal-key-93b2", "--header", "X-Trace: visible-trace-id"})
                  .ok());
  EXPECT_EQ(mask_secrets("literal-key-93b2 pa55-in-url visible-trace-id"),
            "*** *** visible-trace-id");
}

// health.* is read by one function for verify-health and the host's gate, so
// both refuse the same input with the same message.
TEST(MakeHealthCheck, TheHostGateReadsTheHealthSectionTheSameWay) {
  std::string file = (std::filesystem::temp_directory_path() /
                      ("switchyard-health-shared-" + std::to_string(::getpid()) + ".yml"))
                         .string();
  {
    std::ofstream out(file);
    out << "app: hello\nhealth:\n  expect_json: [\"=UP\"]\n";
  }
  ConfigLoadOptions load;
  load.path = file;
  auto config = Config::load(load);
  std::filesystem::remove(file);
  ASSERT_TRUE(config.ok()) << config.error().message;
  std::string expected = file +
                         ":3: health.expect_json: '=UP': expected PATH=VALUE, e.g. status=UP or "
                         "/components/db/status=UP";
  auto host = load_host_settings(*config);
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.error().code, ExitCode::Usage);
  EXPECT_EQ(host.error().message, expected);
  EXPECT_EQ(usage_message(vh::make_health_check(*config, vh::Flags{{k_url}}, {})), expected);
}

}  // namespace
}  // namespace switchyard
