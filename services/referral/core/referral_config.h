// The referral program's rules, read from the service configuration (keys under
// "referral."; see docs/referral.md).
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/config.h"
#include "common/status.h"

namespace loyalty::referral {

// What an anti-fraud rule does when it fires: nothing, hold the referral for an operator, or
// reject it outright.
enum class RuleAction { kOff, kHold, kReject };

struct ReferralConfig {
  int64_t referrer_bonus = 500;  // points
  int64_t invitee_bonus = 250;
  bool two_sided = true;  // false: only the referrer is rewarded

  int64_t min_purchase_minor = 10'000;  // the qualifying purchase is at least this amount
  int64_t qualify_within_days = 90;     // after the code was applied
  // A refund of the qualifying purchase within accrual's return window reverses the bonuses.
  // Its end comes with the purchase's points_earned (release_at_ms of the pending points);
  // this setting is the window only when accrual has none (program.return_window_* 0:
  // purchase points credited at once, the event carries no release time).
  int64_t return_window_days = 30;

  // Rules.
  RuleAction self_referral = RuleAction::kReject;  // same member, phone or e-mail
  RuleAction late_application = RuleAction::kReject;
  int64_t apply_within_days = 30;          // after the invitee's enrolment
  int64_t apply_within_seconds = 0;        // finer, for short windows in tests; wins if set
  RuleAction cycle = RuleAction::kReject;  // A referred by B, then B by A (any length)
  RuleAction referrer_cap = RuleAction::kHold;
  int64_t cap_count = 10;  // referrals per referrer within cap_period_days
  int64_t cap_period_days = 30;
  RuleAction same_store = RuleAction::kHold;
  int64_t same_store_minutes = 30;

  // Bounded caches of the records read from the store.
  int64_t member_cache_bytes = int64_t{128} << 20;
  int64_t referral_cache_bytes = int64_t{128} << 20;

  int64_t ApplyWithinMs() const {
    return apply_within_seconds > 0 ? apply_within_seconds * kSecondMs : apply_within_days * kDayMs;
  }

  // Declared by Keys() with this struct's defaults.
  static StatusOr<ReferralConfig> FromConfig(const Config& config);
  static ConfigKeys Keys();
};

const char* RuleActionName(RuleAction action);

}  // namespace loyalty::referral
