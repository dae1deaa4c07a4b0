#include "services/notification/core/policy.h"

#include <algorithm>

namespace loyalty::notification {
namespace {
constexpr int64_t kDay = 86'400'000;
constexpr int64_t kMinute = 60'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
}  // namespace

int64_t LocalDay(int64_t now_ms, int32_t offset) {
  return FloorDiv(now_ms + int64_t{offset} * kMinute, kDay);
}

int64_t LocalDayStartMs(int64_t day, int32_t offset) {
  return day * kDay - int64_t{offset} * kMinute;
}

int64_t ReleaseTime(int64_t now_ms, const v1::QuietHours& quiet, int32_t offset) {
  int64_t start = quiet.start_minute(), end = quiet.end_minute();
  if (start == end) return now_ms;
  int64_t day = LocalDay(now_ms, offset);
  int64_t day_start = LocalDayStartMs(day, offset);
  int64_t minute = (now_ms - day_start) / kMinute;
  if (start < end) {  // within one day, e.g. 13:00-15:00
    if (minute >= start && minute < end) return day_start + end * kMinute;
    return now_ms;
  }
  // Spans midnight, e.g. 22:00-08:00.
  if (minute >= start) return day_start + kDay + end * kMinute;
  if (minute < end) return day_start + end * kMinute;
  return now_ms;
}

int64_t Backoff::DelayMs(int failed_attempts) {
  int shift = std::clamp(failed_attempts - 1, 0, 40);
  int64_t nominal = options_.base_ms;
  for (int i = 0; i < shift && nominal < options_.max_ms; ++i) nominal *= 2;
  nominal = std::min(nominal, options_.max_ms);
  int64_t half = nominal / 2;
  std::uniform_int_distribution<int64_t> jitter(0, nominal - half);
  return half + jitter(rng_);
}

bool CircuitBreaker::Allow(int64_t now_ms) {
  if (!open_) return true;
  if (now_ms < open_until_ms_ || trial_in_flight_) return false;
  trial_in_flight_ = true;  // half-open: one trial
  return true;
}

void CircuitBreaker::OnSuccess() {
  consecutive_failures_ = 0;
  open_ = false;
  trial_in_flight_ = false;
}

void CircuitBreaker::OnTransientFailure(int64_t now_ms) {
  ++consecutive_failures_;
  if (trial_in_flight_ || consecutive_failures_ >= options_.failure_threshold) {
    open_ = true;
    open_until_ms_ = now_ms + options_.open_ms;
  }
  trial_in_flight_ = false;
}

void CircuitBreaker::Release() { trial_in_flight_ = false; }

CircuitBreaker::State CircuitBreaker::state(int64_t now_ms) const {
  if (!open_) return State::kClosed;
  return now_ms < open_until_ms_ ? State::kOpen : State::kHalfOpen;
}

}  // namespace loyalty::notification
