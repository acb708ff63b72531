// The health engine behind verify-health, also used by switch-traffic to gate
// a new slot (aimed at the slot directly, not through nginx).
#pragma once

#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runner/net/http.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

// What a healthy answer looks like. Healthy = the status matches AND every
// JSON expectation holds AND the version (when expected) matches.
struct HealthExpectation {
  std::optional<long> status;                             // none: any 2xx
  std::vector<std::pair<std::string, std::string>> json;  // PATH=VALUE ("status"="UP")
  std::string version;                                    // X-App-Version header or "version" field
};

struct HealthCheck {
  std::vector<std::string> urls;
  HealthExpectation expect;
  HttpHeaders headers;  // values already resolved (env:NAME), registered as secrets
  Duration timeout{std::chrono::seconds(60)};  // overall deadline
  Duration request_timeout{std::chrono::seconds(2)};
  Duration interval{std::chrono::milliseconds(100)};
  int successes = 1;  // consecutive successes required per URL
  TlsOptions tls;
  // Called between probes; returning true stops waiting early (e.g. the new
  // slot's process has exited, so it will never become healthy).
  std::function<bool()> give_up;
  // Called from the probing thread whenever a URL's state changes (a new
  // failure reason, or healthy: `reason` empty), so a step can log progress
  // without repeating the same line every interval.
  std::function<void(const std::string& url, int attempt, const std::string& reason)> on_change;
};

struct UrlReport {
  std::string url;
  bool healthy = false;
  long last_status = 0;              // of the last answer (0: never answered)
  std::string last_body;             // of the last answer, cut to 2 KiB
  std::string last_reason;           // "connection refused", "status DOWN (down: db)"
  std::vector<std::string> reasons;  // each distinct failure reason seen, in order
  std::vector<int> reason_counts;    // how many attempts failed with reasons[i]
  std::string hint;                  // what to check for last_reason: "is the service running?"
  int attempts = 0;
  Duration waited{0};  // until healthy, or until the deadline
};

struct HealthReport {
  bool healthy = false;
  bool gave_up = false;  // stopped early: give_up said so, or SIGINT/SIGTERM
  std::vector<UrlReport> urls;
  // One line per unhealthy URL, starting with the URL: what a person needs to
  // fix it. "http://127.0.0.1:8082/actuator/health: not healthy after 30s:
  // status DOWN (down: db); check the service's log".
  std::string summary() const;
};

// Probes every URL (each in its own thread, the first probe at once, then one
// every `interval`) until each is healthy or the deadline passes.
HealthReport wait_healthy(const HealthCheck& check);

// Why `response` is not healthy by `expect` ("wrong status 503 (expected 2xx)",
// "status DOWN (down: db, diskSpace)", "JSON mismatch status=DOWN expected UP",
// "version 1.0.0 expected 2.0.0"), or "" when it is healthy.
std::string unhealthy_reason(const HealthExpectation& expect, const HttpResponse& response);

// The text of the scalar at `path` in `root` (a dotted path "components.db.status",
// array indexes as numbers, or a JSON pointer "/components/db/status"):
// strings as they are, numbers, true/false and null as JSON writes them,
// objects and arrays serialized. None when the path leads nowhere.
std::optional<std::string> json_text_at(const boost::json::value& root, std::string_view path);

// The components of a Spring Boot actuator body that are not UP, in body
// order, naming the deepest one ("db.primary" for a DOWN child of a composite).
std::vector<std::string> down_components(const boost::json::value& body);

}  // namespace switchyard
