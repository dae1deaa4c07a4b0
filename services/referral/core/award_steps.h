// The award saga: a qualified referral's bonuses, and a reversed referral's claw-backs, are
// steps persisted on the referral (award and reversal of each side, NONE -> PENDING -> DONE
// or FAILED) and performed against accrual outside the core's mutex. Due() lists the
// pending steps under the mutex, Perform() calls accrual with keys derived from the referral
// and role (a repeat after a crash gets the first answer), Record() writes the outcome under
// the mutex again. An outcome accrual could not give (ShouldRetryAccrualCall) is not
// recorded: the step stays pending and runs again.
#pragma once

#include <string>
#include <vector>

#include "common/accrual_client.h"
#include "common/status.h"
#include "services/referral/core/member_book.h"
#include "services/referral/core/referral_book.h"
#include "services/referral/core/txn.h"
#include "services/referral/core/types.h"

namespace loyalty::referral {

struct StepsResult {
  int done = 0;      // steps accrual confirmed
  int failed = 0;    // refused for good (recorded on the referral)
  int retrying = 0;  // outcome unknown (ShouldRetryAccrualCall): left pending
};

// One call to accrual for one side of a referral.
struct Step {
  std::string referral_id;
  bool referrer = true;  // the referrer's side, else the invitee's
  bool reverse = false;  // a claw-back (AdjustPoints), else an award (AwardPoints)
  std::string member_id;
  Points points;
  std::string reason;  // as the member sees it in the ledger

  const char* role() const { return referrer ? kRoleReferrer : kRoleInvitee; }
  // Derived from the referral and role only: a restart repeats the same call and accrual
  // answers it with the first result.
  std::string idempotency_key() const;
};

class AwardSteps {
 public:
  AwardSteps(ReferralBook& referrals, MemberBook& members)
      : referrals_(referrals), members_(members) {}

  // The steps due now, referrer's before invitee's. Under the core's mutex.
  std::vector<Step> Due();
  // Calls accrual. Never under the core's mutex.
  static Status Perform(AccrualClient& accrual, const Step& step);
  // Records what accrual answered (not a retry): the step is done or failed, the referral
  // rewarded once nothing is pending. False if the referral is gone. Under the core's mutex;
  // one caller at a time (the award worker).
  bool Record(Txn& txn, const Step& step, const Status& status, StepsResult& result);

 private:
  void Done(Txn& txn, v1::Referral& referral, const Step& step);

  ReferralBook& referrals_;
  MemberBook& members_;
};

}  // namespace loyalty::referral
