#include "runner/net/health_settings.hpp"

namespace switchyard {
namespace {

// "switchyard.yml:7: health.timeout: " or "--timeout: health.timeout: ".
std::string subject(const Config& config, std::string_view key) {
  return config.origin(key) + ": " + std::string(key) + ": ";
}

}  // namespace

Result<HealthSettings> read_health_settings(const Config& config) {
  HealthSettings settings;
  auto path = config.string("health.path");
  if (!path) return path.error();
  if (path->empty() || path->front() != '/') {
    return usage_error(subject(config, "health.path") + "\"" + *path +
                       "\" must start with /, e.g. /actuator/health");
  }
  settings.path = *path;

  // The schema's ranges (config_schema.cpp) already held every value below to
  // its bounds when the file was loaded; these reads only convert.
  auto timeout = config.duration("health.timeout");
  if (!timeout) return timeout.error();
  settings.timeout = *timeout;
  auto interval = config.duration("health.interval");
  if (!interval) return interval.error();
  settings.interval = *interval;
  auto request_timeout = config.duration("health.request_timeout");
  if (!request_timeout) return request_timeout.error();
  settings.request_timeout = *request_timeout;

  auto successes = config.integer("health.successes");
  if (!successes) return successes.error();
  settings.successes = static_cast<int>(*successes);

  if (config.find("health.expect_status")) {
    auto status = config.integer("health.expect_status");
    if (!status) return status.error();
    settings.expect_status = static_cast<long>(*status);
  }

  auto checks = config.string_list("health.expect_json");
  if (!checks) return checks.error();
  for (const auto& check : *checks) {
    auto equals = check.find('=');
    if (equals == std::string::npos || equals == 0) {
      return usage_error(subject(config, "health.expect_json") + "'" + check +
                         "': expected PATH=VALUE, e.g. status=UP or /components/db/status=UP");
    }
    settings.expect_json.emplace_back(check.substr(0, equals), check.substr(equals + 1));
  }

  auto headers = config.string_map("health.headers");
  if (!headers) return headers.error();
  settings.headers = *headers;
  auto cacert = config.string("health.cacert");
  if (!cacert) return cacert.error();
  settings.cacert = *cacert;
  auto insecure = config.boolean("health.insecure");
  if (!insecure) return insecure.error();
  settings.insecure = *insecure;
  return settings;
}

}  // namespace switchyard
