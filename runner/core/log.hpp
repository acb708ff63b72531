// Logging for every executable: lines go to stderr (stdout is kept for the
// --json result), through the secret masker, formatted by the CI adapter.
#pragma once

#include <spdlog/fmt/fmt.h>

#include <map>
#include <string>
#include <string_view>

#include "runner/core/ci.hpp"
#include "runner/core/secrets.hpp"

namespace switchyard {

// Registers `secret` so that it never appears in anything switchyard prints:
// logs, error messages, CI outputs, step summaries, JSON results. In GitHub
// Actions this also emits `::add-mask::` (the one line a secret is written to).
// Values shorter than 4 characters are not masked (they would mask everything).
void add_secret(std::string_view secret);

namespace log {

// Sets the lowest level printed (default: level_from_environment()).
void set_level(Level level);

// The level `environment` asks for: SWITCHYARD_LOG when not empty (debug, or info
// for anything else); else Debug when GitHub Actions re-runs a job with debug
// logging (GITHUB_ACTIONS=true and RUNNER_DEBUG=1); else Info.
Level level_from_environment(const std::map<std::string, std::string>& environment);

// Writes one already-formatted line at `level` (masked, to stderr).
void write(Level level, std::string_view line);

template <typename... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  write(Level::Debug, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  write(Level::Info, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  write(Level::Warn, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
  write(Level::Error, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace log
}  // namespace switchyard
