#include "runner/log.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "runner/ci.hpp"

namespace switchyard {
namespace {

// Guards the secret list; output has its own lock in the CI adapter, so a
// thread masking a line never waits for another thread's write.
std::mutex g_secrets_mutex;

std::vector<std::string>& secrets() {
  static std::vector<std::string> values;
  return values;
}

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

// Adds `value` to the list; false if it was there already or is too short.
bool register_secret(std::string_view value) {
  if (value.size() < 4) return false;
  std::lock_guard lock(g_secrets_mutex);
  auto& values = secrets();
  if (std::find(values.begin(), values.end(), value) != values.end()) return false;
  values.emplace_back(value);
  // Longest first, so a secret that contains another is masked whole.
  std::sort(values.begin(), values.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return true;
}

}  // namespace

void add_secret(std::string_view secret) {
  if (!register_secret(secret)) return;
  ci().mask(secret);
  // Output is printed line by line, so each line of a multi-line secret (a
  // PEM key) is a secret of its own too.
  if (secret.find_first_of("\r\n") == std::string_view::npos) return;
  std::size_t start = 0;
  while (start < secret.size()) {
    auto end = secret.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = secret.size();
    std::string_view line = secret.substr(start, end - start);
    if (register_secret(line)) ci().mask(line);
    start = end + 1;
  }
}

std::string mask_secrets(std::string_view text) {
  std::string out(text);
  std::lock_guard lock(g_secrets_mutex);
  for (const auto& secret : secrets()) {
    for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3)) {
      out.replace(at, secret.size(), "***");
    }
  }
  return out;
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
