#include "services/notification/core/policy.h"

#include <algorithm>
#include <optional>

namespace loyalty::notification {
namespace {
constexpr int64_t kDay = 86'400'000;
constexpr int64_t kMinute = 60'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
}  // namespace

int64_t LocalDay(int64_t now_ms, const LocalZone& zone) {
  return FloorDiv(now_ms + zone.OffsetMsAt(now_ms), kDay);
}

int64_t LocalDayStartMs(int64_t day, const LocalZone& zone) { return zone.ToUtcMs(day * kDay); }

int64_t ReleaseTime(int64_t now_ms, const v1::QuietHours& quiet, const LocalZone& zone) {
  int64_t start = quiet.start_minute(), end = quiet.end_minute();
  if (start == end) return now_ms;
  int64_t local = now_ms + zone.OffsetMsAt(now_ms);
  int64_t day_start = FloorDiv(local, kDay) * kDay;  // local midnight, in local time
  int64_t minute = (local - day_start) / kMinute;
  // The local end of the quiet period, or none when outside it.
  std::optional<int64_t> end_local;
  if (start < end) {  // within one day, e.g. 13:00-15:00
    if (minute >= start && minute < end) end_local = day_start + end * kMinute;
  } else if (minute >= start) {  // spans midnight, e.g. 22:00-08:00
    end_local = day_start + kDay + end * kMinute;
  } else if (minute < end) {
    end_local = day_start + end * kMinute;
  }
  if (!end_local) return now_ms;
  return std::max(now_ms, zone.ToUtcMs(*end_local));
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
