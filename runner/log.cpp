#include "runner/log.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "runner/ci.hpp"

namespace switchyard {
namespace {

std::mutex g_mutex;
std::vector<std::string>& secrets() {
  static std::vector<std::string> values;
  return values;
}

log::Level initial_level() {
  const char* value = std::getenv("SWITCHYARD_LOG");
  if (value != nullptr && std::string_view(value) == "debug") return log::Level::Debug;
  return log::Level::Info;
}

log::Level g_level = initial_level();

}  // namespace

void add_secret(std::string_view secret) {
  if (secret.size() < 4) return;
  {
    std::lock_guard lock(g_mutex);
    auto& values = secrets();
    if (std::find(values.begin(), values.end(), secret) != values.end()) return;
    values.emplace_back(secret);
    // Longest first, so a secret that contains another is masked whole.
    std::sort(values.begin(), values.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }
  ci().mask(secret);
}

std::string mask_secrets(std::string_view text) {
  std::string out(text);
  std::lock_guard lock(g_mutex);
  for (const auto& secret : secrets()) {
    for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3)) {
      out.replace(at, secret.size(), "***");
    }
  }
  return out;
}

namespace log {

void set_level(Level level) {
  g_level = level;
}

void write(Level level, std::string_view line) {
  if (level < g_level) return;
  std::string text = mask_secrets(line);
  const char* prefix = "";
  if (level == Level::Warn) prefix = "warning: ";
  if (level == Level::Debug) prefix = "debug: ";
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "%s%s\n", prefix, text.c_str());
  std::fflush(stderr);
}

}  // namespace log
}  // namespace switchyard
