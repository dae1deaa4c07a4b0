// Tiers: the policy as a pure decision, and the code that applies it to a member.
//
// Policy: a member's earned tier rises as soon as the qualifying spend or purchases in the
// rolling window reach a higher tier. At a review (tier_review_days after the tier was
// reached) a member still qualified keeps it for another period; one who no longer
// qualifies gets tier_grace_days of grace, and at the next review below the threshold
// goes down one tier at a time. A paid membership lifts the effective tier while it lasts.
#pragma once

#include <string>

#include "common/clock.h"
#include "services/accrual/core/accrual_config.h"
#include "services/accrual/core/ledger.h"
#include "services/accrual/core/timers.h"
#include "services/accrual/core/txn.h"

namespace loyalty::accrual {

class Milestones;

enum class TierStep { kUpgrade, kKeep, kStartGrace, kDownOne };

struct TierDecision {
  TierStep step;
  int to_tier;  // the earned tier's index after the step
};

// What a review does to a member of earned tier current who qualifies for qualified.
TierDecision ReviewTier(int current, int qualified, bool in_grace);

class Tiers {
 public:
  Tiers(const AccrualConfig& config, const Clock& clock, Timers& timers, Ledger& ledger,
        Milestones& milestones);

  // After a purchase counted: an upgrade applies at once.
  void OnSpend(Txn& txn, MemberRecord& member);
  // A paid tier for days, extending the same tier or starting another.
  void BuyMembership(Txn& txn, MemberRecord& member, const std::string& tier, int64_t days);

 private:
  void Review(Txn& txn, const DueTimer& timer, MemberRecord& member);
  void EndMembership(Txn& txn, const DueTimer& timer, MemberRecord& member);
  void ScheduleReview(Txn& txn, MemberRecord& member, DurationMs after);
  void SetEarned(Txn& txn, MemberRecord& member, int tier_index, const std::string& cause);
  // The tier a member has now (earned or paid, the higher); an event if it changed.
  void UpdateEffective(Txn& txn, MemberRecord& member, const std::string& cause);

  const AccrualConfig& config_;
  const Clock& clock_;
  Timers& timers_;
  Ledger& ledger_;
  Milestones& milestones_;
};

}  // namespace loyalty::accrual
