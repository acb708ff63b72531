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
  SWITCHYARD_READ(settings.timeout, config.duration("health.timeout"));
  SWITCHYARD_READ(settings.interval, config.duration("health.interval"));
  SWITCHYARD_READ(settings.request_timeout, config.duration("health.request_timeout"));

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

  SWITCHYARD_READ(settings.headers, config.string_map("health.headers"));
  SWITCHYARD_READ(settings.cacert, config.string("health.cacert"));
  SWITCHYARD_READ(settings.insecure, config.boolean("health.insecure"));
  return settings;
}

}  // namespace switchyard
