#include "services/referral/core/review.h"

#include "common/field_limits.h"

namespace loyalty::referral {

StatusOr<v1::Referral> Review(Txn& txn, ReferralBook& referrals,
                              const v1::ReviewReferralRequest& request, ReviewDecision decision) {
  v1::Referral* r = referrals.Find(request.referral_id());
  if (r == nullptr) {
    return NotFound("referral_id: referral '" + Quote(request.referral_id()) + "' not found");
  }
  if (r->status() != v1::REFERRAL_STATUS_HELD) {
    return FailedPrecondition("referral_id: referral '" + Quote(request.referral_id()) +
                              "' is not held");
  }
  r->set_reviewed_by(request.actor());
  if (decision == ReviewDecision::kReject) {
    referrals.Reject(txn, *r, "operator",
                     request.note().empty() ? "rejected by " + request.actor() : request.note());
    return *r;
  }
  txn.Note("approved", r->reason());
  if (!r->purchase_id().empty()) {
    referrals.Qualify(txn, *r);
  } else {
    referrals.Release(txn, *r);
  }
  return *r;
}

}  // namespace loyalty::referral
