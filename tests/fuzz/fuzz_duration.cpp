// Durations as users write them (switchyard.yml, flags, variables): parse
// never crashes, and what parses formats back to text that parses to the
// same duration.
#include "runner/util/duration.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = switchyard::parse_duration(text);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code == switchyard::ExitCode::Usage, parsed.error().message);
    return 0;
  }
  FUZZ_CHECK(parsed->count() >= 0, std::string(text));
  // Past what a clock can hold (int64 nanoseconds) is refused, with room to
  // add it to a time point.
  FUZZ_CHECK(*parsed <= std::chrono::hours(1'000'000), std::string(text));
  std::string formatted = switchyard::format_duration(*parsed);
  auto again = switchyard::parse_duration(formatted);
  FUZZ_CHECK(again.ok() && *again == *parsed, std::string(text) + " -> " + formatted);
  return 0;
}
