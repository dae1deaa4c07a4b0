#include "services/notification/core/policy.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace loyalty::notification {
namespace {

constexpr int64_t kJan1 = 1'767'225'600'000;  // 2026-01-01T00:00Z

v1::QuietHours Quiet(int start_h, int end_h) {
  v1::QuietHours q;
  q.set_start_minute(start_h * 60);
  q.set_end_minute(end_h * 60);
  return q;
}

TEST(QuietHoursTest, SpanningMidnightWaitsUntilMorning) {
  auto q = Quiet(22, 8);
  EXPECT_EQ(ReleaseTime(kJan1 + 12 * kHourMs, q, LocalZone::Fixed(0)),
            kJan1 + 12 * kHourMs);  // noon: now
  EXPECT_EQ(ReleaseTime(kJan1 + 23 * kHourMs, q, LocalZone::Fixed(0)),
            kJan1 + kDayMs + 8 * kHourMs);
  EXPECT_EQ(ReleaseTime(kJan1 + 3 * kHourMs, q, LocalZone::Fixed(0)), kJan1 + 8 * kHourMs);
  EXPECT_EQ(ReleaseTime(kJan1 + 8 * kHourMs, q, LocalZone::Fixed(0)),
            kJan1 + 8 * kHourMs);  // end is open
  EXPECT_EQ(ReleaseTime(kJan1 + 22 * kHourMs, q, LocalZone::Fixed(0)),
            kJan1 + kDayMs + 8 * kHourMs);
}

TEST(QuietHoursTest, UsesTheMembersOffset) {
  auto q = Quiet(22, 8);
  // 20:00Z is 23:00 in UTC+3: quiet until 08:00 local = 05:00Z next day.
  EXPECT_EQ(ReleaseTime(kJan1 + 20 * kHourMs, q, LocalZone::Fixed(180)),
            kJan1 + kDayMs + 5 * kHourMs);
  // 06:00Z is 01:00 in UTC-5: quiet until 08:00 local = 13:00Z.
  EXPECT_EQ(ReleaseTime(kJan1 + 6 * kHourMs, q, LocalZone::Fixed(-300)), kJan1 + 13 * kHourMs);
}

TEST(QuietHoursTest, WithinOneDayAndDisabled) {
  auto q = Quiet(13, 15);
  EXPECT_EQ(ReleaseTime(kJan1 + 14 * kHourMs, q, LocalZone::Fixed(0)), kJan1 + 15 * kHourMs);
  EXPECT_EQ(ReleaseTime(kJan1 + 16 * kHourMs, q, LocalZone::Fixed(0)), kJan1 + 16 * kHourMs);
  EXPECT_EQ(ReleaseTime(kJan1 + 14 * kHourMs, Quiet(0, 0), LocalZone::Fixed(0)),
            kJan1 + 14 * kHourMs);
}

TEST(LocalDayTest, DayBoundariesFollowTheOffset) {
  EXPECT_EQ(LocalDay(kJan1 - 1, LocalZone::Fixed(0)) + 1, LocalDay(kJan1, LocalZone::Fixed(0)));
  EXPECT_EQ(LocalDay(kJan1 - kHourMs, LocalZone::Fixed(120)),
            LocalDay(kJan1, LocalZone::Fixed(0)));  // 23:00Z = 01:00 UTC+2
  EXPECT_EQ(LocalDayStartMs(LocalDay(kJan1, LocalZone::Fixed(120)), LocalZone::Fixed(120)),
            kJan1 - 2 * kHourMs);
}

// Europe/Kyiv in 2026: EET (UTC+2) until clocks go 03:00 → 04:00 local at 01:00Z on
// 29 March, EEST (UTC+3) until they go 04:00 → 03:00 local at 01:00Z on 25 October.
constexpr int64_t kMar28 = 1'774'656'000'000;  // 2026-03-28T00:00Z
constexpr int64_t kOct24 = 1'792'800'000'000;  // 2026-10-24T00:00Z

LocalZone Kyiv() {
  auto zone = LocalZone::Named("Europe/Kyiv");
  EXPECT_TRUE(zone.has_value()) << "no tzdata on this machine";
  return zone.value_or(LocalZone::Fixed(120));
}

TEST(LocalZoneTest, NamedZonesFollowDaylightSavingAndUnknownNamesAreRefused) {
  LocalZone kyiv = Kyiv();
  EXPECT_EQ(kyiv.OffsetMinutesAt(kMar28), 120);
  EXPECT_EQ(kyiv.OffsetMinutesAt(kMar28 + kDayMs + kHourMs - 1), 120);
  EXPECT_EQ(kyiv.OffsetMinutesAt(kMar28 + kDayMs + kHourMs), 180);
  EXPECT_EQ(kyiv.OffsetMinutesAt(kOct24 + kDayMs + kHourMs), 120);
  EXPECT_FALSE(LocalZone::Named("Europe/Atlantis").has_value());
  EXPECT_FALSE(LocalZone::Named("").has_value());
  v1::Preferences p;
  p.set_utc_offset_minutes(60);
  EXPECT_EQ(LocalZone::Of(p).OffsetMinutesAt(kMar28), 60);
  p.set_time_zone("Europe/Kyiv");
  EXPECT_EQ(LocalZone::Of(p).OffsetMinutesAt(kMar28), 120);
}

TEST(LocalZoneTest, LocalTimesThatRepeatOrAreSkipped) {
  LocalZone kyiv = Kyiv();
  // 03:30 on 25 October happens twice (EEST, then EET): the first, 00:30Z.
  EXPECT_EQ(kyiv.ToUtcMs(kOct24 + kDayMs + 3 * kHourMs + 30 * kMinuteMs),
            kOct24 + kDayMs + 30 * kMinuteMs);
  // 03:30 on 29 March never happens: as late as the gap, 04:30 EEST = 01:30Z.
  EXPECT_EQ(kyiv.ToUtcMs(kMar28 + kDayMs + 3 * kHourMs + 30 * kMinuteMs),
            kMar28 + kDayMs + kHourMs + 30 * kMinuteMs);
  // An ordinary time: 12:00 EEST on 1 July is 09:00Z.
  constexpr int64_t kJul1 = 1'782'864'000'000;  // 2026-07-01T00:00Z
  EXPECT_EQ(kyiv.ToUtcMs(kJul1 + 12 * kHourMs), kJul1 + 9 * kHourMs);
}

TEST(QuietHoursTest, QuietHoursEndAtLocalTimeAcrossTheChangeOfClocks) {
  LocalZone kyiv = Kyiv();
  auto q = Quiet(22, 8);
  // 23:00 EET on 28 March (21:00Z): clocks go forward in the night, so 08:00 local on 29
  // March is 05:00Z, not 06:00Z.
  EXPECT_EQ(ReleaseTime(kMar28 + 21 * kHourMs, q, kyiv), kMar28 + kDayMs + 5 * kHourMs);
  // 23:00 EEST on 24 October (20:00Z): clocks go back, 08:00 local on 25 October is 06:00Z.
  EXPECT_EQ(ReleaseTime(kOct24 + 20 * kHourMs, q, kyiv), kOct24 + kDayMs + 6 * kHourMs);
  // The local day of the daily cap: 29 March starts at 22:00Z on the 28th, 30 March at 21:00Z
  // on the 29th.
  int64_t day = LocalDay(kMar28 + kDayMs + 12 * kHourMs, kyiv);
  EXPECT_EQ(LocalDayStartMs(day, kyiv), kMar28 + 22 * kHourMs);
  EXPECT_EQ(LocalDayStartMs(day + 1, kyiv), kMar28 + kDayMs + 21 * kHourMs);
}

TEST(BackoffTest, GrowsExponentiallyWithinJitterBoundsAndIsSeeded) {
  const uint64_t seed = 42;
  Backoff a({1000, 60000}, seed), b({1000, 60000}, seed);
  for (int n = 1; n <= 10; ++n) {
    int64_t nominal = std::min<int64_t>(60000, 1000LL << (n - 1));
    int64_t d = a.DelayMs(n);
    EXPECT_GE(d, nominal / 2) << "seed " << seed << " attempt " << n;
    EXPECT_LE(d, nominal) << "seed " << seed << " attempt " << n;
    EXPECT_EQ(d, b.DelayMs(n)) << "same seed, same delays";
  }
  Backoff c({1000, 60000}, 7);
  bool differs = false;
  Backoff d({1000, 60000}, 8);
  for (int i = 0; i < 10; ++i) differs |= c.DelayMs(6) != d.DelayMs(6);
  EXPECT_TRUE(differs) << "jitter comes from the seed";
}

TEST(BreakerTest, OpensHalfOpensAndCloses) {
  CircuitBreaker breaker({3, 10000});
  int64_t now = 1000;
  EXPECT_TRUE(breaker.Allow(now));
  breaker.OnTransientFailure(now);
  breaker.OnTransientFailure(now);
  EXPECT_EQ(breaker.state(now), CircuitBreaker::State::kClosed);
  breaker.OnTransientFailure(now);
  EXPECT_EQ(breaker.state(now), CircuitBreaker::State::kOpen);
  EXPECT_FALSE(breaker.Allow(now + 9999));
  EXPECT_TRUE(breaker.Allow(now + 10000));   // half-open: one trial
  EXPECT_FALSE(breaker.Allow(now + 10000));  // no second one meanwhile
  breaker.OnTransientFailure(now + 10000);   // trial failed: open again
  EXPECT_FALSE(breaker.Allow(now + 19999));
  EXPECT_TRUE(breaker.Allow(now + 20000));
  breaker.OnSuccess();
  EXPECT_EQ(breaker.state(now + 20000), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(breaker.Allow(now + 20000));
  EXPECT_TRUE(breaker.Allow(now + 20000));
}

}  // namespace
}  // namespace loyalty::notification
