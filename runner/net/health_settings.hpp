// The `health` section of switchyard.yml, read and checked in one place for
// both of its readers: verify-health (through the public URL) and the host's
// gate on a new slot (runner/host/settings).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runner/core/config.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/result.hpp"

namespace switchyard {

struct HealthSettings {
  std::string path = "/actuator/health";  // the endpoint's path on the service
  Duration timeout{std::chrono::seconds(60)};
  Duration interval{std::chrono::milliseconds(100)};
  Duration request_timeout{std::chrono::seconds(2)};
  int successes = 1;
  std::optional<long> expect_status;                             // none: any 2xx
  std::vector<std::pair<std::string, std::string>> expect_json;  // ("status", "UP")
  // As configured: a value may be env:NAME, which the prober resolves.
  std::map<std::string, std::string> headers;
  std::string cacert;  // a PEM file ("" : the system's CAs)
  bool insecure = false;
};

// Reads health.* from `config` (flags already in its flag layer). Anything
// malformed fails with exit 2, naming where it was set ("--timeout: ...",
// "switchyard.yml:7: health.expect_json: ..."): durations must be longer than
// 0, successes at least 1, expect_status a status code, every expect_json
// PATH=VALUE with a PATH.
Result<HealthSettings> read_health_settings(const Config& config);

}  // namespace switchyard
