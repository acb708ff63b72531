// The health engine behind verify-health, also used by switch-traffic to gate
// a new slot (aimed at the slot directly, not through nginx).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runner/duration.hpp"
#include "runner/http.hpp"
#include "runner/result.hpp"

namespace switchyard {

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
};

struct UrlReport {
  std::string url;
  bool healthy = false;
  long last_status = 0;
  std::string last_body;             // cut to 2 KiB
  std::string last_reason;           // "connection refused", "status DOWN (components: db)"
  std::vector<std::string> reasons;  // each distinct failure reason seen, in order
  int attempts = 0;
  Duration waited{0};  // until healthy, or until the deadline
};

struct HealthReport {
  bool healthy = false;
  std::vector<UrlReport> urls;
  // One line per unhealthy URL, starting with the URL: what a person needs to fix it.
  std::string summary() const;
};

// Probes every URL until each is healthy or the deadline passes.
HealthReport wait_healthy(const HealthCheck& check);

}  // namespace switchyard
