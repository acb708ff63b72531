#include "runner/util/duration.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using switchyard::format_duration;
using switchyard::parse_duration;

TEST(Duration, ReadsEveryUnit) {
  EXPECT_EQ(*parse_duration("250ms"), 250ms);
  EXPECT_EQ(*parse_duration("30s"), 30s);
  EXPECT_EQ(*parse_duration("2m"), 2min);
  EXPECT_EQ(*parse_duration("1h"), 1h);
  EXPECT_EQ(*parse_duration("1m30s"), 90s);
}

TEST(Duration, RefusesBareNumbersAndJunk) {
  for (const char* text : {"", "30", "s", "1x", "-5s", "1.5s", "5 s"}) {
    auto parsed = parse_duration(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, switchyard::ExitCode::Usage);
    EXPECT_NE(parsed.error().message.find("write it like 250ms"), std::string::npos);
  }
}

TEST(Duration, FormatsWhatItParses) {
  for (auto d : {250ms, 30000ms, 90000ms, 3600000ms, 1500ms}) {
    EXPECT_EQ(*parse_duration(format_duration(d)), d) << format_duration(d);
  }
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(90s), "1m30s");
}

// 2562048h is past what int64 nanoseconds hold: once accepted, adding it to a
// clock reading overflowed and verify-health gave up after one probe.
TEST(Duration, RefusesWhatNoClockCanHold) {
  EXPECT_EQ(*parse_duration("1000000h"), std::chrono::hours(1'000'000));
  for (const char* text :
       {"2562048h", "1000000h1ms", "999999999h", "1000000000h1000000000h", "9999999999ms"}) {
    auto parsed = parse_duration(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, switchyard::ExitCode::Usage) << text;
  }
  auto parsed = parse_duration("2562048h");
  EXPECT_EQ(parsed.error().message, "'2562048h': too long; the longest duration is 1000000h");
}
