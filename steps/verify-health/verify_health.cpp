#include "steps/verify-health/verify_health.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>

#include "runner/cli/step.hpp"
#include "runner/core/ci.hpp"
#include "runner/core/config.hpp"
#include "runner/core/log.hpp"
#include "runner/net/http.hpp"
#include "runner/util/interrupt.hpp"
#include "runner/util/strings.hpp"

namespace switchyard {
namespace {

// One setting: the text, and how to name it in a message ("--timeout", or
// "switchyard.yml:4: health.timeout").
struct Setting {
  std::string text;
  std::string subject;
};

// How a message names the configured `key`: "switchyard.yml:4: health.timeout",
// or the bare key when nothing says where it was set.
std::string configured_subject(const SettingSource& settings, std::string_view key) {
  std::string where = settings.origin ? settings.origin(key) : "";
  return where.empty() ? std::string(key) : where + ": " + std::string(key);
}

// The flag's value when given, else the configured key, else the key's
// default from the configuration schema (the one list of defaults).
Setting pick(const std::string& flag_value, std::string_view flag, std::string_view key,
             const SettingSource& settings) {
  if (!flag_value.empty()) return {flag_value, std::string(flag)};
  if (settings.find) {
    if (auto found = settings.find(key)) return {*found, configured_subject(settings, key)};
  }
  return {std::string(find_config_key(key)->default_value), std::string(flag)};
}

Result<Duration> positive_duration(const Setting& setting) {
  auto parsed = parse_duration(setting.text);
  if (!parsed) return usage_error(setting.subject + " " + parsed.error().message);
  if (parsed->count() <= 0) {
    return usage_error(setting.subject + " '" + setting.text + "': must be longer than 0");
  }
  return *parsed;
}

bool is_token(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// Header names whose literal values are secrets too, not only env:NAME ones.
bool sensitive_header(std::string_view header) {
  std::string name = to_lower(header);
  for (const char* word : {"authorization", "cookie", "token", "secret", "key", "password"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

// Resolves one header value: `env:NAME` reads variable NAME, which must be set.
Result<std::string> header_value(const std::string& subject, const std::string& name,
                                 const std::string& value,
                                 const std::map<std::string, std::string>& environment) {
  if (value.rfind("env:", 0) != 0) {
    if (sensitive_header(name)) add_secret(value);
    return value;
  }
  std::string variable = value.substr(4);
  std::string resolved = environment_value(environment, variable);
  if (variable.empty() || resolved.empty()) {
    return usage_error(subject + " " + name + ": environment variable '" + variable +
                       "' is not set; export it before running, or pass the value another way");
  }
  add_secret(resolved);
  return resolved;
}

// "Name: value" from --header. The text is not quoted back: it may hold a secret.
Result<std::pair<std::string, std::string>> parse_header(
    const std::string& text, std::size_t index,
    const std::map<std::string, std::string>& environment) {
  std::string subject = "--header";
  auto colon = text.find(':');
  std::string name = colon == std::string::npos ? "" : std::string(trim(text.substr(0, colon)));
  if (colon == std::string::npos || !is_token(name)) {
    return usage_error(subject + " #" + std::to_string(index + 1) +
                       ": expected 'Name: value' (a header name, a colon, then the value; "
                       "the value may be env:NAME)");
  }
  auto value = header_value(subject, name, std::string(trim(text.substr(colon + 1))), environment);
  if (!value) return value.error();
  return std::pair{name, *value};
}

// A password in the URL's user info ("https://user:pass@host/") is a secret.
void mask_url_password(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return;
  auto authority_end = url.find_first_of("/?#", scheme_end + 3);
  auto at = url.rfind('@', authority_end);
  if (at == std::string::npos || at < scheme_end) return;
  auto colon = url.find(':', scheme_end + 3);
  if (colon != std::string::npos && colon < at) add_secret(url.substr(colon + 1, at - colon - 1));
}

Result<std::vector<std::string>> pick_urls(const VerifyHealthOptions& options,
                                           const SettingSource& settings) {
  std::vector<std::string> urls = options.urls;
  std::string subject = "URL";
  if (urls.empty() && settings.find) {
    if (auto configured = settings.find("verify.url")) {
      urls.push_back(*configured);
      subject = configured_subject(settings, "verify.url");
    }
  }
  if (urls.empty()) {
    return usage_error(
        "switchyard-verify-health: no URL given; pass one or more URLs "
        "(http://host:port/actuator/health), or set verify.url in switchyard.yml");
  }
  for (const auto& url : urls) {
    mask_url_password(url);
    std::string problem = http_url_problem(url);
    if (!problem.empty()) {
      return usage_error(subject + " " + url + ": " + problem +
                         "; write the whole URL, e.g. http://127.0.0.1:8080/actuator/health");
    }
  }
  return urls;
}

Result<std::optional<long>> pick_status(const VerifyHealthOptions& options,
                                        const SettingSource& settings) {
  Setting setting =
      pick(options.expect_status, "--expect-status", "health.expect_status", settings);
  if (setting.text.empty()) return std::optional<long>();
  bool digits =
      setting.text.size() == 3 && setting.text.find_first_not_of("0123456789") == std::string::npos;
  long code = digits ? std::stol(setting.text) : 0;
  if (code < 100 || code > 599) {
    return usage_error(setting.subject + " '" + setting.text +
                       "': not an HTTP status code; write one from 100 to 599, e.g. 200");
  }
  return std::optional<long>(code);
}

Result<std::vector<std::pair<std::string, std::string>>> pick_json(
    const VerifyHealthOptions& options, const SettingSource& settings) {
  std::vector<std::string> texts = options.expect_json;
  std::string subject = "--expect-json";
  if (texts.empty() && settings.list) {
    texts = settings.list("health.expect_json");
    subject = configured_subject(settings, "health.expect_json");
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& text : texts) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
      return usage_error(subject + " '" + text +
                         "': expected PATH=VALUE, e.g. status=UP or /components/db/status=UP");
    }
    out.emplace_back(text.substr(0, eq), text.substr(eq + 1));
  }
  return out;
}

Result<HttpHeaders> pick_headers(const VerifyHealthOptions& options,
                                 const std::map<std::string, std::string>& environment,
                                 const SettingSource& settings) {
  HttpHeaders headers;
  for (std::size_t i = 0; i < options.headers.size(); ++i) {
    auto header = parse_header(options.headers[i], i, environment);
    if (!header) return header.error();
    headers.push_back(*header);
  }
  if (options.headers.empty() && settings.map) {
    std::string subject = configured_subject(settings, "health.headers");
    for (const auto& [name, value] : settings.map("health.headers")) {
      if (!is_token(name)) {
        return usage_error(subject + " '" + name + "': not a header name");
      }
      auto resolved = header_value(subject, name, value, environment);
      if (!resolved) return resolved.error();
      headers.emplace_back(name, *resolved);
    }
  }
  return headers;
}

Result<int> pick_successes(const VerifyHealthOptions& options, const SettingSource& settings) {
  Setting setting = pick(options.successes, "--successes", "health.successes", settings);
  bool digits = !setting.text.empty() && setting.text.size() <= 6 &&
                setting.text.find_first_not_of("0123456789") == std::string::npos;
  int count = digits ? std::stoi(setting.text) : 0;
  if (count < 1) {
    return usage_error(setting.subject + " '" + setting.text +
                       "': expected a whole number of at least 1");
  }
  return count;
}

Result<TlsOptions> pick_tls(const VerifyHealthOptions& options, const SettingSource& settings) {
  TlsOptions tls;
  Setting cacert = pick(options.cacert, "--cacert", "health.cacert", settings);
  if (!cacert.text.empty()) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(cacert.text, error)) {
      return usage_error(cacert.subject + " " + cacert.text +
                         ": no such file; give the PEM file of the CA that signed the "
                         "service's certificate");
    }
    tls.ca_file = cacert.text;
  }
  tls.insecure = options.insecure;
  if (!tls.insecure && settings.find) {
    // The configuration has checked that it is a boolean.
    auto configured = settings.find("health.insecure");
    tls.insecure = parse_boolean(configured.value_or("")).value_or(false);
  }
  return tls;
}

// Logs, for one URL that never became healthy, what a person needs to fix it.
void log_details(const UrlReport& report) {
  log::info("{}: not healthy after {} ({} attempt{})", report.url, format_duration(report.waited),
            report.attempts, report.attempts == 1 ? "" : "s");
  if (report.last_status != 0) {
    log::info("  last status: {}", report.last_status);
    std::string body = report.last_body;
    for (auto at = body.find('\n'); at != std::string::npos; at = body.find('\n', at + 5)) {
      body.replace(at, 1, "\n    ");
    }
    log::info("  last body: {}", body.empty() ? "(empty)" : body);
  } else {
    log::info("  last status: none (no answer)");
  }
  for (std::size_t i = 0; i < report.reasons.size(); ++i) {
    log::info("  reason: {} ({} attempt{})", report.reasons[i], report.reason_counts[i],
              report.reason_counts[i] == 1 ? "" : "s");
  }
}

// A Markdown table cell: pipes and line breaks would end the cell or row.
std::string cell(std::string text) {
  for (auto at = text.find('|'); at != std::string::npos; at = text.find('|', at + 2)) {
    text.replace(at, 1, "\\|");
  }
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

// The table for GitHub's step summary: one row per URL.
void add_step_summary(const HealthReport& report) {
  std::string table =
      "| URL | healthy | attempts | waited | last status | last reason |\n"
      "|---|---|---|---|---|---|\n";
  for (const auto& url : report.urls) {
    table += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", cell(url.url),
                         url.healthy ? "yes" : "**no**", url.attempts, format_duration(url.waited),
                         url.last_status == 0 ? "none" : std::to_string(url.last_status),
                         cell(url.last_reason));
  }
  ci().add_summary(table);
}

boost::json::object url_result(const UrlReport& report) {
  boost::json::object out;
  out["url"] = report.url;
  out["healthy"] = report.healthy;
  out["attempts"] = report.attempts;
  out["waited_ms"] = report.waited.count();
  out["last_status"] = report.last_status;
  out["last_reason"] = report.last_reason;
  boost::json::array reasons;
  for (const auto& reason : report.reasons)
    reasons.emplace_back(reason);
  out["reasons"] = std::move(reasons);
  out["last_body"] = report.last_body;
  return out;
}

// The lookups verify-health makes, answered by the loaded switchyard.yml.
SettingSource settings_from(const Config& config) {
  SettingSource source;
  source.find = [&config](std::string_view key) { return config.find(key); };
  source.list = [&config](std::string_view key) {
    auto values = config.string_list(key);
    return values ? *values : std::vector<std::string>();
  };
  source.map = [&config](std::string_view key) {
    auto values = config.string_map(key);
    return values ? *values : std::map<std::string, std::string>();
  };
  source.origin = [&config](std::string_view key) { return config.origin(key); };
  return source;
}

Result<void> verify_health(StepContext& context, const VerifyHealthOptions& options) {
  // Read the configuration (flags always work without a file).
  auto config = context.load_config();
  if (!config) return config.error();
  auto environment = current_environment();
  auto check = make_health_check(options, environment, settings_from(*config));
  if (!check) return check.error();

  // Probe until healthy or the deadline.
  log::info("waiting up to {} for {} (a probe every {}, each up to {})",
            format_duration(check->timeout),
            check->urls.size() == 1 ? check->urls[0] : std::to_string(check->urls.size()) + " URLs",
            format_duration(check->interval), format_duration(check->request_timeout));
  check->on_change = [](const std::string& url, int attempt, const std::string& reason) {
    if (!reason.empty()) log::info("{}: {} (attempt {})", url, reason, attempt);
  };
  HealthReport report;
  {
    CiGroup group("wait for healthy");
    // The reasons logged on the way quote the service's answers (a status, a
    // version), which the CI must not take as commands.
    CiUntrustedOutput untrusted;
    report = wait_healthy(*check);
  }
  add_step_summary(report);

  // Report.
  Duration waited{0};
  boost::json::array urls;
  for (const auto& url : report.urls) {
    waited = std::max(waited, url.waited);
    urls.push_back(url_result(url));
    if (url.healthy) {
      log::info("{}: healthy after {} ({} attempt{})", url.url, format_duration(url.waited),
                url.attempts, url.attempts == 1 ? "" : "s");
    }
  }
  context.result["healthy"] = report.healthy;
  context.result["waited_ms"] = waited.count();
  context.result["urls"] = std::move(urls);
  if (report.healthy) return {};

  if (report.gave_up && interrupted()) {
    return Error{ExitCode::Interrupted, "switchyard-verify-health: interrupted while waiting"};
  }
  std::size_t unhealthy = 0;
  {
    // The details quote the service's last answer; commands resume before
    // the failure is reported.
    CiUntrustedOutput untrusted;
    for (const auto& url : report.urls) {
      if (url.healthy) continue;
      ++unhealthy;
      log_details(url);
    }
  }
  std::string summary = report.summary();
  std::string message = summary.substr(0, summary.find('\n'));
  if (unhealthy > 1) {
    message += " (" + std::to_string(unhealthy - 1) + " more unhealthy URL" +
               (unhealthy > 2 ? "s" : "") + " above)";
  }
  return failure(message);
}

}  // namespace

Result<HealthCheck> make_health_check(const VerifyHealthOptions& options,
                                      const std::map<std::string, std::string>& environment,
                                      const SettingSource& settings) {
  HealthCheck check;
  auto urls = pick_urls(options, settings);
  if (!urls) return urls.error();
  check.urls = *urls;

  auto status = pick_status(options, settings);
  if (!status) return status.error();
  check.expect.status = *status;
  auto json = pick_json(options, settings);
  if (!json) return json.error();
  check.expect.json = *json;
  // The version changes with every deploy, so it is a flag only (the
  // pipeline passes the manifest's app_version).
  check.expect.version = options.expect_version;

  auto headers = pick_headers(options, environment, settings);
  if (!headers) return headers.error();
  check.headers = *headers;

  auto timeout = positive_duration(pick(options.timeout, "--timeout", "health.timeout", settings));
  if (!timeout) return timeout.error();
  check.timeout = *timeout;
  auto request_timeout = positive_duration(
      pick(options.request_timeout, "--request-timeout", "health.request_timeout", settings));
  if (!request_timeout) return request_timeout.error();
  check.request_timeout = *request_timeout;
  auto interval =
      positive_duration(pick(options.interval, "--interval", "health.interval", settings));
  if (!interval) return interval.error();
  check.interval = *interval;

  auto successes = pick_successes(options, settings);
  if (!successes) return successes.error();
  check.successes = *successes;
  auto tls = pick_tls(options, settings);
  if (!tls) return tls.error();
  check.tls = *tls;
  return check;
}

int verify_health_main(int argc, char** argv) {
  CLI::App app{
      "Wait until every URL answers healthy, or give up at a deadline.\n"
      "Healthy: the expected status (any 2xx by default), every --expect-json, and the\n"
      "--expect-version. Without a URL, verify.url from switchyard.yml is used.",
      "switchyard-verify-health"};
  VerifyHealthOptions options;
  CommonOptions common;
  auto repeatable = [](CLI::Option* option) {
    // One value per occurrence, so a URL after the flag stays a URL.
    option->expected(1)->allow_extra_args(false)->multi_option_policy(
        CLI::MultiOptionPolicy::TakeAll);
  };
  app.add_option("url", options.urls, "the URLs to probe (http:// or https://)");
  app.add_option("--expect-status", options.expect_status,
                 "the status a healthy answer has (default: any 2xx)")
      ->type_name("CODE");
  repeatable(app.add_option("--expect-json", options.expect_json,
                            "PATH=VALUE the JSON body must hold; PATH is dotted "
                            "(components.db.status) or a JSON pointer; repeatable")
                 ->type_name("PATH=VALUE"));
  app.add_option("--expect-version", options.expect_version,
                 "the version the answer carries (X-App-Version header or a version field)")
      ->type_name("V");
  repeatable(app.add_option("--header", options.headers,
                            "'Name: value' to send; the value may be env:NAME to read variable "
                            "NAME (kept out of every output); repeatable")
                 ->type_name("'NAME: VALUE'"));
  app.add_option("--timeout", options.timeout, "overall deadline (default 60s)")->type_name("DUR");
  app.add_option("--request-timeout", options.request_timeout, "deadline of one probe (default 2s)")
      ->type_name("DUR");
  app.add_option("--interval", options.interval, "time between probes (default 100ms)")
      ->type_name("DUR");
  app.add_option("--successes", options.successes,
                 "consecutive healthy answers required (default 1)")
      ->type_name("N");
  app.add_option("--cacert", options.cacert, "trust the CA certificates in this PEM file")
      ->type_name("FILE");
  app.add_flag("--insecure", options.insecure, "do not verify TLS certificates");
  add_common_options(app, common, /*changes_anything=*/false);
  return run_step("verify-health", app, common, argc, argv,
                  [&](StepContext& context) { return verify_health(context, options); });
}

}  // namespace switchyard
