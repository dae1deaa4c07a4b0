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
  EXPECT_EQ(ReleaseTime(kJan1 + 12 * kHourMs, q, 0), kJan1 + 12 * kHourMs);  // noon: now
  EXPECT_EQ(ReleaseTime(kJan1 + 23 * kHourMs, q, 0), kJan1 + kDayMs + 8 * kHourMs);
  EXPECT_EQ(ReleaseTime(kJan1 + 3 * kHourMs, q, 0), kJan1 + 8 * kHourMs);
  EXPECT_EQ(ReleaseTime(kJan1 + 8 * kHourMs, q, 0), kJan1 + 8 * kHourMs);  // end is open
  EXPECT_EQ(ReleaseTime(kJan1 + 22 * kHourMs, q, 0), kJan1 + kDayMs + 8 * kHourMs);
}

TEST(QuietHoursTest, UsesTheMembersOffset) {
  auto q = Quiet(22, 8);
  // 20:00Z is 23:00 in UTC+3: quiet until 08:00 local = 05:00Z next day.
  EXPECT_EQ(ReleaseTime(kJan1 + 20 * kHourMs, q, 180), kJan1 + kDayMs + 5 * kHourMs);
  // 06:00Z is 01:00 in UTC-5: quiet until 08:00 local = 13:00Z.
  EXPECT_EQ(ReleaseTime(kJan1 + 6 * kHourMs, q, -300), kJan1 + 13 * kHourMs);
}

TEST(QuietHoursTest, WithinOneDayAndDisabled) {
  auto q = Quiet(13, 15);
  EXPECT_EQ(ReleaseTime(kJan1 + 14 * kHourMs, q, 0), kJan1 + 15 * kHourMs);
  EXPECT_EQ(ReleaseTime(kJan1 + 16 * kHourMs, q, 0), kJan1 + 16 * kHourMs);
  EXPECT_EQ(ReleaseTime(kJan1 + 14 * kHourMs, Quiet(0, 0), 0), kJan1 + 14 * kHourMs);
}

TEST(LocalDayTest, DayBoundariesFollowTheOffset) {
  EXPECT_EQ(LocalDay(kJan1 - 1, 0) + 1, LocalDay(kJan1, 0));
  EXPECT_EQ(LocalDay(kJan1 - kHourMs, 120), LocalDay(kJan1, 0));  // 23:00Z = 01:00 UTC+2
  EXPECT_EQ(LocalDayStartMs(LocalDay(kJan1, 120), 120), kJan1 - 2 * kHourMs);
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
