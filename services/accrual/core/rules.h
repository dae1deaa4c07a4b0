// The earning engine's rules as pure functions over a member's record: lot expiry dates, the tiers'
// rolling window, and the points a purchase earns with campaigns. The core applies what these
// compute; SimulatePurchase calls the same functions and writes nothing, so a simulation is exactly
// what a purchase would earn.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/internal.pb.h"
#include "loyalty/v1/purchases.pb.h"
#include "services/accrual/core/accrual_config.h"

namespace loyalty::accrual {

using v1::internal::MemberRecord;

// Days since the Unix epoch (UTC) of a time in ms, and back.
int64_t DayOf(int64_t ms);

// When points credited at now_ms expire under the policy (0: never). Rolling expiry ends at
// the end of the day, so one day's credits share a lot; the calendar policies end at the
// last millisecond of the month, quarter or year (UTC).
int64_t LotExpiry(const AccrualConfig& config, int64_t now_ms);

// Qualifying spend and purchases in the tier window ending at now.
struct WindowTotals {
  int64_t spend_minor = 0;
  int64_t purchases = 0;
};
WindowTotals TierWindow(const AccrualConfig& config, const MemberRecord& member, int64_t now_ms);
// The highest tier whose spend or purchases threshold the totals meet.
int QualifiedTier(const AccrualConfig& config, const WindowTotals& totals);
// Adds (or, negative, removes) spend on a day; drops days older than the window.
void RecordSpend(const AccrualConfig& config, MemberRecord& member, int64_t day,
                 int64_t amount_minor, int64_t purchases, int64_t now_ms);
v1::TierProgress Progress(const AccrualConfig& config, const MemberRecord& member, int64_t now_ms);

// A campaign is live for a purchase at now if it is not ended and now is in its window.
bool CampaignLive(const v1::Campaign& campaign, int64_t now_ms);
// The points a purchase earns for this member now: the base (tier or partner rate) and each
// live campaign's share, within its budget and per-member cap. Campaigns stack: each adds
// its share, computed on the purchase (never on other campaigns' points), in priority
// order; an exclusive campaign that applies stops the lower-priority ones. `applied`, if
// given, receives the campaigns of the breakdown's shares, in the same order. Shares name
// their campaign by id only (see AddCampaignNames).
v1::EarnBreakdown ComputeEarning(const AccrualConfig& config, const MemberRecord& member,
                                 const v1::PurchaseEvent& purchase,
                                 const std::vector<v1::Campaign*>& campaigns_by_priority,
                                 int64_t now_ms, std::vector<v1::Campaign*>* applied = nullptr);

}  // namespace loyalty::accrual
