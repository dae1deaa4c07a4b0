// The accrual events referral reads from loyalty.events.v1, one command at a time: a
// purchase (points_earned) may qualify the invitee's referral, and feeds the same-store rule
// for a referrer; a refund (points_reversed) of the qualifying purchase within the return
// window reverses the referral. Events are deduped by accrual's per-member sequence, or by
// event id when they have none.
#pragma once

#include <string>
#include <unordered_set>

#include "common/clock.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "services/referral/core/commands.h"
#include "services/referral/core/member_book.h"
#include "services/referral/core/referral_book.h"
#include "services/referral/core/referral_config.h"
#include "services/referral/core/txn.h"

namespace loyalty::referral {

inline constexpr size_t kMaxRecentPurchases = 64;

// One batch of input as it is applied: what it did, and the event ids without a sequence it
// applied (the store sees them only once the batch is staged).
struct EventBatch {
  EventBatchResult result;
  std::unordered_set<std::string> seen_ids;
};

// The accrual sequence in an event_id "<member_id>:<sequence>", or -1 if it has another form.
int64_t AccrualSequence(const v1::LoyaltyEvent& event);

class QualificationFlow {
 public:
  QualificationFlow(const Store& store, const Clock& clock, const ReferralConfig& config,
                    MemberBook& members, ReferralBook& referrals)
      : store_(store), clock_(clock), config_(config), members_(members), referrals_(referrals) {}

  void Apply(Txn& txn, const EventCmd& cmd, EventBatch& batch);

 private:
  // True if the event was applied before; otherwise records it as applied.
  bool Duplicate(Txn& txn, MemberState& member, const v1::LoyaltyEvent& event, EventBatch& batch);
  void OnPurchase(Txn& txn, MemberState& member, const v1::LoyaltyEvent& event);
  // A referrer's purchases of the last few minutes, for the same-store rule.
  void RememberPurchase(Txn& txn, MemberState& member, const v1::PointsEarned& earned, TimeMs at);
  // The invitee's first qualifying purchase: its referral may hold, reject or qualify.
  void JudgePurchase(Txn& txn, v1::Referral& referral, const v1::PointsEarned& earned, TimeMs at);
  void OnRefund(Txn& txn, MemberState& member, const v1::LoyaltyEvent& event);

  const Store& store_;
  const Clock& clock_;
  const ReferralConfig& config_;
  MemberBook& members_;
  ReferralBook& referrals_;
};

}  // namespace loyalty::referral
