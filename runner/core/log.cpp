#include "runner/core/log.hpp"

#include <atomic>
#include <cstdlib>
#include <map>
#include <string>

#include "runner/core/ci.hpp"

namespace switchyard {
namespace {

// This runs during static initialization, so it reads only the variables it
// needs, with getenv.
log::Level initial_level() {
  std::map<std::string, std::string> environment;
  for (const char* name : {"SWITCHYARD_LOG", "GITHUB_ACTIONS", "RUNNER_DEBUG"}) {
    if (const char* value = std::getenv(name); value != nullptr) environment[name] = value;
  }
  return log::level_from_environment(environment);
}

std::atomic<log::Level> g_level{initial_level()};

}  // namespace

void add_secret(std::string_view secret) {
  for (const auto& piece : register_secret(secret))
    ci().mask(piece);
}

namespace log {

Level level_from_environment(const std::map<std::string, std::string>& environment) {
  // An explicit SWITCHYARD_LOG wins, so a noisy debug re-run can be quietened.
  if (std::string level = environment_value(environment, "SWITCHYARD_LOG"); !level.empty()) {
    return level == "debug" ? Level::Debug : Level::Info;
  }
  // The runner sets RUNNER_DEBUG=1 when a job is re-run with debug logging;
  // GITHUB_ACTIONS=true is what detect_ci() picks the GitHub adapter by.
  if (environment_value(environment, "GITHUB_ACTIONS") == "true" &&
      environment_value(environment, "RUNNER_DEBUG") == "1") {
    return Level::Debug;
  }
  return Level::Info;
}

void set_level(Level level) {
  g_level = level;
}

void write(Level level, std::string_view line) {
  if (level < g_level.load()) return;
  ci().write_line(level, mask_secrets(line));
}

}  // namespace log
}  // namespace switchyard
