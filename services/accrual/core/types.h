// Accrual's named types and the column families it keeps, with the module that owns each
// (docs/architecture.md has the map).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/named_type.h"
#include "loyalty/v1/internal.pb.h"

namespace loyalty::accrual {

using loyalty::DurationMs;
using loyalty::MinorUnits;
using loyalty::Points;
using loyalty::TimeMs;

using MemberRecord = v1::internal::MemberRecord;
using Lot = v1::internal::Lot;
using LotSlices = std::vector<Lot>;  // points taken from lots, each with its lot's expiry

// Timed work (timers.h), one handler per kind, registered by the module that owns it.
enum class TimerKind : uint8_t {
  kReleasePending = 1,  // purchase flow; reference: purchase_id
  kExpireLot = 2,       // ledger; reference: the lot's expiry date
  kRemindLot = 3,       // ledger; reference: the lot's expiry date
  kTierReview = 4,      // tiers
  kMembershipEnd = 5,   // tiers
};

namespace cf {
inline constexpr char kMembers[] = "members";         // MemberBook
inline constexpr char kContacts[] = "contacts";       // MemberBook (phone/e-mail -> member)
inline constexpr char kMeta[] = "meta";               // MemberBook (count), partner stats
inline constexpr char kLedger[] = "ledger";           // Ledger
inline constexpr char kHolds[] = "holds";             // HoldBook
inline constexpr char kHoldExpiry[] = "hold_expiry";  // HoldBook (open holds by expiry)
inline constexpr char kHoldLots[] = "hold_lots";      // HoldBook (the lot slices held)
inline constexpr char kTimers[] = "timers";           // Timers
inline constexpr char kPurchases[] = "purchases";     // purchase and refund flows
inline constexpr char kRefunds[] = "refunds";
inline constexpr char kParkedRefunds[] = "parked_refunds";
inline constexpr char kCampaigns[] = "campaigns";  // CampaignBook
inline constexpr char kCampaignAudit[] = "campaign_audit";
inline constexpr char kActivities[] = "activities";  // activity flow
inline constexpr char kActivityObjects[] = "activity_objects";
inline constexpr char kOffsets[] = "offsets";          // the batch: next offset per partition
inline constexpr char kIdempotency[] = "idempotency";  // common/idempotent.h
}  // namespace cf

// Limits on what one call may move.
inline constexpr int64_t kMaxPointsPerCall = 1'000'000'000'000;

}  // namespace loyalty::accrual
