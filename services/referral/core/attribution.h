// Attribution: an invitee applies a referrer's code, once and forever. The flow judges the
// application (judge.h) on what accrual said about both members, creates the referral,
// follows both members' accrual events from then on, and counts the application toward the
// referrer's cap. The accrual lookups happen before, outside the core's mutex.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/referral.pb.h"
#include "services/referral/core/member_book.h"
#include "services/referral/core/referral_book.h"
#include "services/referral/core/referral_config.h"
#include "services/referral/core/txn.h"

namespace loyalty::referral {

// An application as the facade checked it: the normalised code, its owner, and the two
// members as accrual has them.
struct ApplyCmd {
  const v1::ApplyReferralRequest& request;
  const std::string& code;
  const std::string& referrer_id;  // the code's owner
  const v1::Member& invitee;
  const v1::Member& referrer;
};

class Attribution {
 public:
  Attribution(const Clock& clock, const ReferralConfig& config, MemberBook& members,
              ReferralBook& referrals)
      : clock_(clock), config_(config), members_(members), referrals_(referrals) {}

  // FAILED_PRECONDITION if the invitee applied a code before; else the new referral, which
  // is PENDING, HELD or REJECTED by the rules.
  StatusOr<v1::Referral> Apply(Txn& txn, const ApplyCmd& cmd);

 private:
  bool InCycle(const std::string& referrer_id, const std::string& invitee_id);
  v1::Referral NewReferral(const ApplyCmd& cmd, TimeMs now) const;
  // Counts an accepted (or held) application toward the referrer's cap.
  void CountForReferrer(Txn& txn, const std::string& referrer_id, TimeMs now);

  const Clock& clock_;
  const ReferralConfig& config_;
  MemberBook& members_;
  ReferralBook& referrals_;
};

}  // namespace loyalty::referral
