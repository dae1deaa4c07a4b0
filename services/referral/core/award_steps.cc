#include "services/referral/core/award_steps.h"

#include "common/check.h"

namespace loyalty::referral {

std::string Step::idempotency_key() const {
  std::string key = "referral:" + referral_id + ":" + role();
  return reverse ? key + ":reverse" : key;
}

std::vector<Step> AwardSteps::Due() {
  std::vector<Step> steps;
  for (const auto& id : referrals_.work()) {
    v1::Referral* r = referrals_.Find(id);
    if (r == nullptr) continue;
    for (bool is_referrer : {true, false}) {
      const v1::ReferralAward& side = is_referrer ? r->referrer() : r->invitee();
      Step step{id, is_referrer, false, side.member_id(), Points(side.points()), ""};
      if (side.award() == v1::STEP_STATE_PENDING) {
        step.reason = is_referrer ? "referral bonus: " + r->invitee_id() + " joined with your code"
                                  : "referral bonus: joined with the code of " + r->referrer_id();
      } else if (side.award() == v1::STEP_STATE_DONE && side.reversal() == v1::STEP_STATE_PENDING) {
        step.reverse = true;
        step.reason = "referral " + id + " reversed: refund " + r->refund_id() + " of purchase " +
                      r->purchase_id();
      } else {
        continue;
      }
      steps.push_back(std::move(step));
    }
  }
  return steps;
}

Status AwardSteps::Perform(AccrualClient& accrual, const Step& step) {
  if (!step.reverse) {
    v1::AwardPointsRequest award;
    award.set_member_id(step.member_id);
    award.set_points(step.points.value());
    award.set_reason(step.reason);
    award.set_source("referral");
    award.set_idempotency_key(step.idempotency_key());
    return accrual.AwardPoints(award).status();
  }
  v1::AdjustPointsRequest adjust;
  adjust.set_member_id(step.member_id);
  adjust.set_delta(-step.points.value());
  adjust.set_reason(step.reason);
  adjust.set_actor("referral");
  adjust.set_allow_debt(true);
  adjust.set_idempotency_key(step.idempotency_key());
  return accrual.AdjustPoints(adjust).status();
}

bool AwardSteps::Record(Txn& txn, const Step& step, const Status& status, StepsResult& result) {
  v1::Referral* r = referrals_.Find(step.referral_id);
  if (r == nullptr) return false;
  v1::ReferralAward* side = step.referrer ? r->mutable_referrer() : r->mutable_invitee();
  // A bonus is awarded (and reversed) at most once: only a pending step has an outcome.
  LOYALTY_CHECK(step.reverse ? side->reversal() == v1::STEP_STATE_PENDING
                             : side->award() == v1::STEP_STATE_PENDING,
                "referral " + step.referral_id + ": outcome of a step that is not pending");
  if (!status.ok()) {
    (step.reverse ? side->set_reversal(v1::STEP_STATE_FAILED)
                  : side->set_award(v1::STEP_STATE_FAILED));
    side->set_detail(status.message());
    if (!step.reverse) side->set_reversal(v1::STEP_STATE_NONE);
    txn.Note("step_failed", step.reverse ? "reversal" : "award");
    ++result.failed;
  } else {
    Done(txn, *r, step);
    ++result.done;
  }
  referrals_.RewardIfPaid(txn, *r);
  referrals_.Touch(txn, *r);
  return true;
}

void AwardSteps::Done(Txn& txn, v1::Referral& r, const Step& step) {
  v1::ReferralAward* side = step.referrer ? r.mutable_referrer() : r.mutable_invitee();
  v1::LoyaltyEvent event;
  if (!step.reverse) {
    side->set_award(v1::STEP_STATE_DONE);
    auto* rewarded = event.mutable_referral_rewarded();
    rewarded->set_referral_id(r.referral_id());
    rewarded->set_referrer_id(r.referrer_id());
    rewarded->set_invitee_id(r.invitee_id());
    rewarded->set_points(step.points.value());
    rewarded->set_role(step.role());
  } else {
    side->set_reversal(v1::STEP_STATE_DONE);
    auto* reversed = event.mutable_referral_reversed();
    reversed->set_referral_id(r.referral_id());
    reversed->set_refund_id(r.refund_id());
    reversed->set_points(step.points.value());
    reversed->set_role(step.role());
  }
  members_.Publish(txn, step.member_id, std::move(event));
  txn.Note(step.reverse ? "points_reversed" : "points_awarded", step.role(), step.points.value());
}

}  // namespace loyalty::referral
