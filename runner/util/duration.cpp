#include "runner/util/duration.hpp"

#include <cctype>
#include <cstdint>

namespace switchyard {

namespace {

// The longest duration a user may write: 1,000,000 hours (114 years). Past
// about 2,562,047 hours a duration no longer fits the int64 nanoseconds the
// clocks count in, and adding it to a time point overflows (a deadline
// "already passed" after one probe); this bound leaves room for that sum.
constexpr std::int64_t k_longest_ms = std::int64_t{1'000'000} * 3'600'000;

}  // namespace

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
    std::int64_t unit_ms = 0;
    if (unit == "ms")
      unit_ms = 1;
    else if (unit == "s")
      unit_ms = 1000;
    else if (unit == "m")
      unit_ms = 60'000;
    else if (unit == "h")
      unit_ms = 3'600'000;
    else
      return bad();
    // number <= 10^9 and unit_ms <= 3.6 * 10^6: the product fits; the sum is
    // checked before it could overflow.
    std::int64_t part_ms = number * unit_ms;
    if (part_ms > k_longest_ms - total_ms) {
      return usage_error(std::string("'") + std::string(text) +
                         "': too long; the longest duration is 1000000h");
    }
    total_ms += part_ms;
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
