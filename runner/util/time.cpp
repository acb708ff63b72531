#include "runner/util/time.hpp"

#include <ctime>

namespace switchyard {
namespace {

std::string format_utc(SystemTime time, const char* format) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char buffer[32];
  std::size_t length = std::strftime(buffer, sizeof buffer, format, &utc);
  return std::string(buffer, length);
}

}  // namespace

std::string rfc3339_utc(SystemTime time) {
  return format_utc(time, "%Y-%m-%dT%H:%M:%SZ");
}

std::string compact_utc(SystemTime time) {
  return format_utc(time, "%Y%m%dT%H%M%SZ");
}

}  // namespace switchyard
