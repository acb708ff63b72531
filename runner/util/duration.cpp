#include "runner/util/duration.hpp"

#include <cctype>
#include <cstdint>

namespace switchyard {

Result<Duration> parse_duration(std::string_view text) {
  auto bad = [&] {
    return usage_error(std::string("'") + std::string(text) +
                       "': not a duration; write it like 250ms, 30s, 2m or 1h30m");
  };
  if (text.empty()) return bad();
  std::int64_t total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad();
    std::int64_t number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      number = number * 10 + (text[i] - '0');
      if (number > 1'000'000'000) return bad();
      ++i;
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])))
      ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit == "ms")
      total_ms += number;
    else if (unit == "s")
      total_ms += number * 1000;
    else if (unit == "m")
      total_ms += number * 60'000;
    else if (unit == "h")
      total_ms += number * 3'600'000;
    else
      return bad();
  }
  return Duration(total_ms);
}

std::string format_duration(Duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms % 1000 != 0 && ms < 60'000) return std::to_string(ms) + "ms";
  std::int64_t seconds = ms / 1000;
  std::int64_t rest_ms = ms % 1000;
  if (seconds >= 3600) {
    out += std::to_string(seconds / 3600) + "h";
    seconds %= 3600;
  }
  if (seconds >= 60) {
    out += std::to_string(seconds / 60) + "m";
    seconds %= 60;
  }
  if (seconds > 0) out += std::to_string(seconds) + "s";
  if (rest_ms > 0) out += std::to_string(rest_ms) + "ms";
  return out;
}

}  // namespace switchyard
