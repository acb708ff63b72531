// Durations as users write them in switchyard.yml and on the command line:
// "250ms", "30s", "2m", "1h", or combined ("1m30s").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "runner/util/result.hpp"

namespace switchyard {

using Duration = std::chrono::milliseconds;

// Parse `text` ("250ms", "30s", "2m", "1h30m"). A bare number is refused:
// "30" could mean seconds or milliseconds, and guessing wrong is worse.
Result<Duration> parse_duration(std::string_view text);

// Format `d` the way parse_duration reads it back: "250ms", "30s", "2m30s".
std::string format_duration(Duration d);

}  // namespace switchyard
