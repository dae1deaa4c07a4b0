#include "services/referral/core/attribution.h"

#include <algorithm>

#include "common/field_limits.h"
#include "common/ids.h"
#include "services/referral/core/judge.h"

namespace loyalty::referral {

StatusOr<v1::Referral> Attribution::Apply(Txn& txn, const ApplyCmd& cmd) {
  const std::string& invitee_id = cmd.request.invitee_id();
  const std::string& referrer_id = cmd.referrer_id;
  MemberState* existing = members_.Find(invitee_id);
  if (existing != nullptr && !existing->referral_id().empty()) {
    return FailedPrecondition("invitee_id: member '" + Quote(invitee_id) +
                              "' already applied a referral code (referral " +
                              existing->referral_id() + ")");
  }
  const TimeMs now(clock_.NowMs());
  Application application{cmd.invitee, cmd.referrer, now};
  const std::string& judged_referrer = cmd.referrer.member_id();
  application.cycle = cmd.invitee.member_id() != judged_referrer &&
                      InCycle(judged_referrer, cmd.invitee.member_id());
  application.referrer_state = members_.Find(judged_referrer);
  Verdict verdict = Judge(application, config_);

  v1::Referral& r = referrals_.Create(txn, NewReferral(cmd, now));
  MemberState& invitee_state = members_.GetOrCreate(txn, invitee_id);
  invitee_state.set_referral_id(r.referral_id());
  invitee_state.set_referred_by(referrer_id);
  txn.Note("applied");
  if (verdict.status == v1::REFERRAL_STATUS_REJECTED) {
    referrals_.Reject(txn, r, verdict.reason, verdict.detail);
    return r;
  }
  CountForReferrer(txn, referrer_id, now);
  if (verdict.status == v1::REFERRAL_STATUS_HELD) {
    referrals_.Hold(txn, r, verdict.reason, verdict.detail);
  } else {
    referrals_.Touch(txn, r);
  }
  return r;
}

bool Attribution::InCycle(const std::string& referrer_id, const std::string& invitee_id) {
  return ReachesInCycle(referrer_id, invitee_id, [&](const std::string& member_id) {
    MemberState* m = members_.Find(member_id);
    if (m == nullptr || m->referral_id().empty()) return std::string();
    v1::Referral* r = referrals_.Find(m->referral_id());
    if (r == nullptr || r->status() == v1::REFERRAL_STATUS_REJECTED) return std::string();
    return r->referrer_id();
  });
}

v1::Referral Attribution::NewReferral(const ApplyCmd& cmd, TimeMs now) const {
  const std::string& referrer_id = cmd.referrer_id;
  v1::Referral r;
  r.set_referral_id(NewId("rf", now.value()));
  r.set_referrer_id(referrer_id);
  r.set_invitee_id(cmd.request.invitee_id());
  r.set_code(cmd.code);
  r.set_applied_at_ms(now.value());
  r.set_status(v1::REFERRAL_STATUS_PENDING);
  r.mutable_referrer()->set_member_id(referrer_id);
  r.mutable_referrer()->set_points(config_.referrer_bonus);
  r.mutable_invitee()->set_member_id(cmd.request.invitee_id());
  r.mutable_invitee()->set_points(config_.two_sided ? config_.invitee_bonus : 0);
  return r;
}

void Attribution::CountForReferrer(Txn& txn, const std::string& referrer_id, TimeMs now) {
  MemberState& referrer_state = members_.GetOrCreate(txn, referrer_id);
  referrer_state.set_referrals_made(referrer_state.referrals_made() + 1);
  // Only what the cap needs: application times within the period.
  auto* recent = referrer_state.mutable_recent_applied_ms();
  int64_t since = now.value() - config_.cap_period_days * kDayMs;
  recent->erase(
      std::remove_if(recent->begin(), recent->end(), [&](int64_t at) { return at <= since; }),
      recent->end());
  recent->Add(now.value());
}

}  // namespace loyalty::referral
