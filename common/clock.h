// Time for the domain cores. Logic never reads the system time itself: it takes a Clock, so
// tests move a ManualClock through days of holds and expiry in microseconds.
#pragma once

#include <atomic>
#include <cstdint>

namespace loyalty {

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix time in milliseconds.
  virtual int64_t NowMs() const = 0;
};

class SystemClock : public Clock {
 public:
  int64_t NowMs() const override;
};

class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'767'225'600'000) : now_ms_(start_ms) {}  // 2026-01-01
  int64_t NowMs() const override { return now_ms_.load(); }
  void Set(int64_t ms) { now_ms_.store(ms); }
  void Advance(int64_t ms) { now_ms_.fetch_add(ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

constexpr int64_t kSecondMs = 1000;
constexpr int64_t kMinuteMs = 60 * kSecondMs;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;

}  // namespace loyalty
