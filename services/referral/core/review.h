// Operator review of held referrals: approving one lets it go on (qualified at once if its
// purchase came while it was held, else pending again), rejecting it ends it.
#pragma once

#include "common/status.h"
#include "loyalty/v1/referral.pb.h"
#include "services/referral/core/referral_book.h"
#include "services/referral/core/txn.h"

namespace loyalty::referral {

enum class ReviewDecision { kApprove, kReject };

// NOT_FOUND for an unknown referral, FAILED_PRECONDITION unless it is held; else the
// referral as the decision left it. The request's referral_id and actor are checked.
StatusOr<v1::Referral> Review(Txn& txn, ReferralBook& referrals,
                              const v1::ReviewReferralRequest& request, ReviewDecision decision);

}  // namespace loyalty::referral
