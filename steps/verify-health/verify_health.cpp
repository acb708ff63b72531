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
#include "runner/net/health_settings.hpp"
#include "runner/net/http.hpp"
#include "runner/util/interrupt.hpp"
#include "runner/util/strings.hpp"

namespace switchyard::steps::verify_health {
namespace {

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

Result<std::vector<std::string>> pick_urls(const Config& config, const Flags& flags) {
  std::vector<std::string> urls = flags.urls;
  std::string subject = "URL";
  if (urls.empty()) {
    if (auto configured = config.find("verify.url")) {
      urls.push_back(*configured);
      subject = config.origin("verify.url") + ": verify.url";
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

// The configured headers with env:NAME resolved; names checked.
Result<HttpHeaders> resolve_headers(const Config& config, const HealthSettings& health,
                                    const std::map<std::string, std::string>& environment) {
  std::string origin = config.origin("health.headers");
  // A flag names itself; the file names the key too.
  std::string subject = origin.starts_with("--") ? origin : origin + ": health.headers";
  HttpHeaders headers;
  for (const auto& [name, value] : health.headers) {
    if (!is_token(name)) return usage_error(subject + " '" + name + "': not a header name");
    auto resolved = header_value(subject, name, value, environment);
    if (!resolved) return resolved.error();
    headers.emplace_back(name, *resolved);
  }
  return headers;
}

Result<TlsOptions> tls_options(const Config& config, const HealthSettings& health) {
  TlsOptions tls;
  if (!health.cacert.empty()) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(health.cacert, error)) {
      std::string origin = config.origin("health.cacert");
      std::string subject = origin.starts_with("--") ? origin : origin + ": health.cacert";
      return usage_error(subject + " " + health.cacert +
                         ": no such file; give the PEM file of the CA that signed the "
                         "service's certificate");
    }
    tls.ca_file = health.cacert;
  }
  tls.insecure = health.insecure;
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

Result<void> verify(StepContext& context, const Flags& flags) {
  // Read the configuration, the --header flags in its flag layer (flags
  // always work without a file).
  auto headers = header_entries(flags.headers);
  if (!headers) return headers.error();
  if (!headers->empty()) context.options.config_flags.maps["health.headers"] = *headers;
  auto config = context.load_config();
  if (!config) return config.error();
  auto check = make_health_check(*config, flags, current_environment());
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

Result<std::map<std::string, std::string>> header_entries(const std::vector<std::string>& headers) {
  std::map<std::string, std::string> entries;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const std::string& text = headers[i];
    auto colon = text.find(':');
    std::string name = colon == std::string::npos ? "" : std::string(trim(text.substr(0, colon)));
    if (colon == std::string::npos || !is_token(name)) {
      return usage_error("--header #" + std::to_string(i + 1) +
                         ": expected 'Name: value' (a header name, a colon, then the value; "
                         "the value may be env:NAME)");
    }
    entries[name] = std::string(trim(text.substr(colon + 1)));
  }
  return entries;
}

Result<HealthCheck> make_health_check(const Config& config, const Flags& flags,
                                      const std::map<std::string, std::string>& environment) {
  HealthCheck check;
  auto urls = pick_urls(config, flags);
  if (!urls) return urls.error();
  check.urls = *urls;

  auto health = read_health_settings(config);
  if (!health) return health.error();
  check.expect.status = health->expect_status;
  check.expect.json = health->expect_json;
  // The version changes with every deploy, so it is a flag only (the
  // pipeline passes the manifest's app_version).
  check.expect.version = flags.expect_version;
  auto headers = resolve_headers(config, *health, environment);
  if (!headers) return headers.error();
  check.headers = *headers;
  check.timeout = health->timeout;
  check.request_timeout = health->request_timeout;
  check.interval = health->interval;
  check.successes = health->successes;
  auto tls = tls_options(config, *health);
  if (!tls) return tls.error();
  check.tls = *tls;
  return check;
}

void add_flags(CLI::App& app, CommonOptions& common, Flags& flags) {
  app.add_option("url", flags.urls, "the URLs to probe (http:// or https://)");
  add_config_flag(app, common, "--expect-status", "health.expect_status",
                  "the status a healthy answer has (default: any 2xx)")
      ->type_name("CODE");
  add_config_flag(app, common, "--expect-json", "health.expect_json",
                  "PATH=VALUE the JSON body must hold; PATH is dotted "
                  "(components.db.status) or a JSON pointer; repeatable")
      ->type_name("PATH=VALUE");
  app.add_option("--expect-version", flags.expect_version,
                 "the version the answer carries (X-App-Version header or a version field)")
      ->type_name("V");
  // One value per occurrence, so a URL after the flag stays a URL. Its
  // entries join the flag layer in verify(), once their syntax is checked.
  common.config_flags.names["health.headers"] = "--header";
  app.add_option("--header", flags.headers,
                 "'Name: value' to send (health.headers); the value may be env:NAME to read "
                 "variable NAME (kept out of every output); repeatable")
      ->type_name("'NAME: VALUE'")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_config_flag(app, common, "--timeout", "health.timeout", "overall deadline (default 60s)")
      ->type_name("DUR");
  add_config_flag(app, common, "--request-timeout", "health.request_timeout",
                  "deadline of one probe (default 2s)")
      ->type_name("DUR");
  add_config_flag(app, common, "--interval", "health.interval",
                  "time between probes (default 100ms)")
      ->type_name("DUR");
  add_config_flag(app, common, "--successes", "health.successes",
                  "consecutive healthy answers required (default 1)")
      ->type_name("N");
  add_config_flag(app, common, "--cacert", "health.cacert",
                  "trust the CA certificates in this PEM file")
      ->type_name("FILE");
  add_config_flag(app, common, "--insecure", "health.insecure", "do not verify TLS certificates");
}

int run(int argc, char** argv) {
  CLI::App app{
      "Wait until every URL answers healthy, or give up at a deadline.\n"
      "Healthy: the expected status (any 2xx by default), every --expect-json, and the\n"
      "--expect-version. Without a URL, verify.url from switchyard.yml is used.",
      "switchyard-verify-health"};
  Flags flags;
  CommonOptions common;
  add_flags(app, common, flags);
  add_common_options(app, common, /*changes_anything=*/false);
  return run_step("verify-health", app, common, argc, argv,
                  [&](StepContext& context) { return verify(context, flags); });
}

}  // namespace switchyard::steps::verify_health
