// The timing rules of delivery, as pure functions of time so that tests drive them on a
// manual clock: the member's local day and quiet hours (in their LocalZone), retry backoff
// with jitter from a seeded generator, and a per-channel circuit breaker.
#pragma once

#include <cstdint>
#include <random>

#include "loyalty/v1/notification.pb.h"
#include "services/notification/core/local_zone.h"

namespace loyalty::notification {

// Days since the epoch in the member's local time.
int64_t LocalDay(int64_t now_ms, const LocalZone& zone);
// The Unix time at which local day `day` starts.
int64_t LocalDayStartMs(int64_t day, const LocalZone& zone);
// When a non-transactional message may go out: now_ms if outside quiet hours, else the end
// of the quiet period (which may be on the next local day).
int64_t ReleaseTime(int64_t now_ms, const v1::QuietHours& quiet, const LocalZone& zone);

struct BackoffOptions {
  int64_t base_ms = 2000;
  int64_t max_ms = 10 * 60 * 1000;
};

// Exponential backoff with "equal jitter": the delay before retry n (n >= 1, counting
// failed attempts) is d/2 + uniform[0, d/2] with d = min(max, base * 2^(n-1)), so retries
// never synchronise and never come sooner than half the nominal delay.
class Backoff {
 public:
  Backoff(BackoffOptions options, uint64_t seed) : options_(options), rng_(seed) {}
  int64_t DelayMs(int failed_attempts);
  const BackoffOptions& options() const { return options_; }

 private:
  BackoffOptions options_;
  std::mt19937_64 rng_;
};

struct BreakerOptions {
  int failure_threshold = 5;    // consecutive transient failures that open it
  int64_t open_ms = 30 * 1000;  // how long it stays open before one trial
};

// Per channel: closed (everything goes), open (nothing goes until open_ms passed), half-open
// (one trial in flight; success closes, failure re-opens). Permanent failures (a bad address)
// say nothing about the channel's health and do not count.
class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };
  explicit CircuitBreaker(BreakerOptions options = {}) : options_(options) {}

  // Whether a send may start now; in half-open, grants a single trial.
  bool Allow(int64_t now_ms);
  void OnSuccess();
  void OnTransientFailure(int64_t now_ms);
  // Returns a granted half-open trial that was not used (e.g. the send was not attempted).
  void Release();
  State state(int64_t now_ms) const;
  int64_t open_until_ms() const { return open_until_ms_; }

 private:
  BreakerOptions options_;
  int consecutive_failures_ = 0;
  bool open_ = false;
  int64_t open_until_ms_ = 0;
  bool trial_in_flight_ = false;
};

}  // namespace loyalty::notification
