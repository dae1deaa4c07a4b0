#include "services/referral/core/stats.h"

namespace loyalty::referral {
namespace {

void Count(v1::ReferralStats& stats, const v1::Referral& r) {
  stats.set_invited(stats.invited() + 1);
  switch (r.status()) {
    case v1::REFERRAL_STATUS_PENDING:
      stats.set_pending(stats.pending() + 1);
      break;
    case v1::REFERRAL_STATUS_HELD:
      stats.set_held(stats.held() + 1);
      break;
    case v1::REFERRAL_STATUS_REJECTED:
      stats.set_rejected(stats.rejected() + 1);
      ++(*stats.mutable_rejected_by_reason())[r.reason()];
      break;
    case v1::REFERRAL_STATUS_QUALIFIED:
      stats.set_qualified(stats.qualified() + 1);
      break;
    case v1::REFERRAL_STATUS_REWARDED:
      stats.set_qualified(stats.qualified() + 1);
      stats.set_rewarded(stats.rewarded() + 1);
      break;
    case v1::REFERRAL_STATUS_REVERSED:
      stats.set_qualified(stats.qualified() + 1);
      stats.set_reversed(stats.reversed() + 1);
      break;
    case v1::REFERRAL_STATUS_EXPIRED:
      stats.set_expired(stats.expired() + 1);
      break;
    default:
      break;
  }
}

}  // namespace

Points NetPoints(const v1::ReferralAward& side) {
  Points points(side.award() == v1::STEP_STATE_DONE ? side.points() : 0);
  if (side.reversal() == v1::STEP_STATE_DONE) points -= Points(side.points());
  return points;
}

v1::ReferralStats Summarize(const std::string& member_id,
                            const std::vector<const v1::Referral*>& made, const v1::Referral* own) {
  v1::ReferralStats stats;
  stats.set_member_id(member_id);
  for (const v1::Referral* r : made) {
    Count(stats, *r);
    stats.set_points_earned(stats.points_earned() + NetPoints(r->referrer()).value());
  }
  if (own != nullptr) {
    if (own->status() != v1::REFERRAL_STATUS_REJECTED) stats.set_referred_by(own->referrer_id());
    stats.set_points_earned(stats.points_earned() + NetPoints(own->invitee()).value());
  }
  return stats;
}

}  // namespace loyalty::referral
