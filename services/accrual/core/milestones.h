// Milestones: badges a member reaches once (first purchase, N purchases, N points earned, a
// tier), each announced by an event and, if the program sets one, paid with a bonus.
#pragma once

#include <string>

#include "common/clock.h"
#include "services/accrual/core/accrual_config.h"
#include "services/accrual/core/ledger.h"
#include "services/accrual/core/txn.h"

namespace loyalty::accrual {

// The title of a badge, from its id ("purchases_10" -> "10 purchases").
std::string BadgeTitle(const std::string& badge_id);

class Milestones {
 public:
  Milestones(const AccrualConfig& config, const Clock& clock, Ledger& ledger)
      : config_(config), clock_(clock), ledger_(ledger) {}

  // The thresholds crossed by a change (the hot path must not rescan every milestone): a
  // purchase counted, and lifetime points going past earned_before.
  void Check(Txn& txn, MemberRecord& member, bool purchase_counted, Points earned_before);
  // Gives the badge unless the member has it.
  void Reach(Txn& txn, MemberRecord& member, const std::string& badge_id);

 private:
  const AccrualConfig& config_;
  const Clock& clock_;
  Ledger& ledger_;
};

}  // namespace loyalty::accrual
