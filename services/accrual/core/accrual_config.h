// The program rules accrual applies, read from the service configuration.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace loyalty::accrual {

// A tier is reached when either threshold is met within the rolling window; a threshold of
// 0 is not used. The first tier has none: every member starts there.
struct TierRule {
  std::string name;
  int32_t earn_rate_bp = 0;  // basis points of the purchase amount
  int64_t qualify_spend_minor = 0;
  int64_t qualify_purchases = 0;
  std::vector<std::string> benefits;
};

struct PartnerRule {
  std::string partner_id;
  int32_t earn_rate_bp = 0;  // replaces the tier's rate for purchases at this partner
};

struct ActivityRule {
  std::string type;
  int64_t points = 0;
  int64_t daily_cap = 0;         // points per member per day for this type, 0 = none
  bool once_per_object = false;  // one reward per (member, object), ever
};

enum class ExpiryPolicy { kNever, kRolling, kEndOfMonth, kEndOfQuarter, kEndOfYear };

struct AccrualConfig {
  std::vector<TierRule> tiers = {
      {"Bronze", 100, 0, 0, {"1% back in points"}},
      {"Silver", 200, 500'000, 12, {"2% back in points"}},
      {"Gold", 300, 2'000'000, 36, {"3% back in points", "exclusive rewards"}},
      {"Platinum", 500, 5'000'000, 72, {"5% back in points", "exclusive rewards"}}};
  int64_t tier_window_days = 365;  // qualifying spend and purchases are counted over this
  int64_t tier_review_days = 90;   // a tier is reviewed this long after it was reached
  int64_t tier_grace_days = 30;    // below threshold at review: one more chance this long

  std::string currency = "UAH";       // purchases in another currency are dead-lettered
  int64_t minor_units_per_point = 1;  // 1: one point per minor unit of cashback
  int64_t welcome_bonus = 0;
  std::string default_country_code;  // for national phone numbers, e.g. "380"
  std::string default_language = "en";
  int64_t default_hold_ttl_seconds = 15 * 60;
  int64_t max_hold_ttl_seconds = 7 * 24 * 3600;
  int64_t max_amount_minor = 100'000'000'000;  // a purchase above this is refused as bad input
  // Memory for member records read from the store (a cache: the least recently used leave
  // first); RSS grows with this, not with the number of members.
  int64_t member_cache_bytes = int64_t{256} << 20;

  int64_t return_window_days = 0;     // purchase points stay pending this long; 0 = at once
  int64_t return_window_seconds = 0;  // finer, for short windows in tests; wins if set
  int64_t ReturnWindowMs() const {
    return return_window_seconds > 0 ? return_window_seconds * 1000
                                     : return_window_days * 86'400'000;
  }

  ExpiryPolicy expiry = ExpiryPolicy::kNever;
  int64_t expiry_days = 365;        // for kRolling
  int64_t expiry_remind_days = 30;  // PointsExpiringSoon this long before

  std::vector<PartnerRule> partners;
  std::vector<ActivityRule> activities = {
      {"review", 50, 100, true},   {"social_share", 10, 30, true}, {"video_view", 5, 25, true},
      {"check_in", 10, 10, false}, {"survey", 30, 60, true},       {"birthday", 200, 0, true},
  };

  std::vector<int64_t> purchase_milestones = {1, 10, 50, 100};
  std::vector<int64_t> points_milestones = {1'000, 10'000, 100'000};
  std::map<std::string, int64_t> milestone_bonus;  // badge id -> bonus points

  const TierRule* FindTier(const std::string& name) const;
  int TierIndex(const std::string& name) const;  // -1 if unknown
  const PartnerRule* FindPartner(const std::string& id) const;
  const ActivityRule* FindActivity(const std::string& type) const;

  // Keys under "program.", "holds.", "expiry." (see deploy/config/accrual.yaml), declared by
  // Keys() with this struct's defaults.
  static StatusOr<AccrualConfig> FromConfig(const Config& config);
  static ConfigKeys Keys();
};

}  // namespace loyalty::accrual
