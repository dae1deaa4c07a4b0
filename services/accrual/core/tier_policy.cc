#include "services/accrual/core/tier_policy.h"

#include <algorithm>

#include "services/accrual/core/member_book.h"
#include "services/accrual/core/milestones.h"
#include "services/accrual/core/rules.h"

namespace loyalty::accrual {

TierDecision ReviewTier(int current, int qualified, bool in_grace) {
  if (qualified > current) return {TierStep::kUpgrade, qualified};
  if (qualified == current) return {TierStep::kKeep, current};
  if (!in_grace) return {TierStep::kStartGrace, current};
  return {TierStep::kDownOne, current - 1};  // one tier at a time
}

Tiers::Tiers(const AccrualConfig& config, const Clock& clock, Timers& timers, Ledger& ledger,
             Milestones& milestones)
    : config_(config), clock_(clock), timers_(timers), ledger_(ledger), milestones_(milestones) {
  timers_.Register(TimerKind::kTierReview,
                   [this](Txn& txn, const DueTimer& t, MemberRecord& m) { Review(txn, t, m); });
  timers_.Register(TimerKind::kMembershipEnd, [this](Txn& txn, const DueTimer& t, MemberRecord& m) {
    EndMembership(txn, t, m);
  });
}

void Tiers::OnSpend(Txn& txn, MemberRecord& member) {
  int64_t now = clock_.NowMs();
  int qualified = QualifiedTier(config_, TierWindow(config_, member, now));
  if (qualified > std::max(0, config_.TierIndex(member.earned_tier()))) {
    SetEarned(txn, member, qualified, "qualified");
  }
}

void Tiers::Review(Txn& txn, const DueTimer& timer, MemberRecord& member) {
  if (timer.due.value() != member.tier_review_at_ms()) return;  // superseded by a later review
  int current = std::max(0, config_.TierIndex(member.earned_tier()));
  int qualified = QualifiedTier(config_, TierWindow(config_, member, clock_.NowMs()));
  TierDecision decision = ReviewTier(current, qualified, member.in_grace());
  switch (decision.step) {
    case TierStep::kUpgrade:
    case TierStep::kDownOne:
      SetEarned(txn, member, decision.to_tier, "evaluation");
      return;
    case TierStep::kKeep:
      member.set_in_grace(false);
      ScheduleReview(txn, member, Days(config_.tier_review_days));
      return;
    case TierStep::kStartGrace:
      member.set_in_grace(true);
      ScheduleReview(txn, member, Days(config_.tier_grace_days));
      return;
  }
}

void Tiers::ScheduleReview(Txn& txn, MemberRecord& member, DurationMs after) {
  TimeMs at = TimeMs(clock_.NowMs()) + after;
  member.set_tier_review_at_ms(at.value());
  timers_.Add(txn, at, TimerKind::kTierReview, member.member().member_id());
  MemberBook::Touch(txn, member);
}

void Tiers::SetEarned(Txn& txn, MemberRecord& member, int tier_index, const std::string& cause) {
  member.set_earned_tier(config_.tiers[tier_index].name);
  member.set_in_grace(false);
  if (tier_index > 0) {
    ScheduleReview(txn, member, Days(config_.tier_review_days));
  } else {
    member.set_tier_review_at_ms(0);
    MemberBook::Touch(txn, member);
  }
  UpdateEffective(txn, member, cause);
}

void Tiers::BuyMembership(Txn& txn, MemberRecord& member, const std::string& tier, int64_t days) {
  int64_t now = clock_.NowMs();
  // Buying the same tier again extends it; another tier starts a new period.
  int64_t start = member.paid_tier() == tier ? std::max(now, member.paid_until_ms()) : now;
  member.set_paid_tier(tier);
  member.set_paid_until_ms((TimeMs(start) + Days(days)).value());
  timers_.Add(txn, TimeMs(member.paid_until_ms()), TimerKind::kMembershipEnd,
              member.member().member_id());
  MemberBook::Touch(txn, member);
  UpdateEffective(txn, member, "membership_purchased");
}

void Tiers::EndMembership(Txn& txn, const DueTimer& timer, MemberRecord& member) {
  if (timer.due.value() != member.paid_until_ms()) return;  // extended since
  member.clear_paid_tier();
  MemberBook::Touch(txn, member);
  UpdateEffective(txn, member, "membership_ended");
}

void Tiers::UpdateEffective(Txn& txn, MemberRecord& member, const std::string& cause) {
  int effective = std::max(0, config_.TierIndex(member.earned_tier()));
  if (!member.paid_tier().empty() && member.paid_until_ms() > clock_.NowMs()) {
    effective = std::max(effective, config_.TierIndex(member.paid_tier()));
  }
  const std::string& from = member.member().tier();
  const std::string& to = config_.tiers[effective].name;
  if (from == to) return;
  bool upgrade = effective > config_.TierIndex(from);
  v1::LoyaltyEvent event;
  auto* changed = event.mutable_tier_changed();
  changed->set_from_tier(from);
  changed->set_to_tier(to);
  changed->set_upgrade(upgrade);
  changed->set_cause(cause);
  changed->set_next_evaluation_at_ms(member.tier_review_at_ms());
  member.mutable_member()->set_tier(to);
  ledger_.Emit(txn, member, std::move(event));
  if (upgrade) milestones_.Reach(txn, member, "tier_" + to);
}

}  // namespace loyalty::accrual
