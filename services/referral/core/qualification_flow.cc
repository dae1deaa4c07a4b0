#include "services/referral/core/qualification_flow.h"

#include <algorithm>

#include "common/retention.h"
#include "services/referral/core/judge.h"

namespace loyalty::referral {

int64_t AccrualSequence(const v1::LoyaltyEvent& event) {
  const std::string& id = event.event_id();
  const std::string prefix = event.member_id() + ":";
  if (id.size() <= prefix.size() || id.compare(0, prefix.size(), prefix) != 0) return -1;
  int64_t seq = 0;
  for (size_t i = prefix.size(); i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9' || seq > (int64_t{1} << 55)) return -1;
    seq = seq * 10 + (id[i] - '0');
  }
  return seq;
}

void QualificationFlow::Apply(Txn& txn, const EventCmd& cmd, EventBatch& batch) {
  const v1::LoyaltyEvent& event = cmd.event;
  bool relevant = event.payload_case() == v1::LoyaltyEvent::kPointsEarned ||
                  event.payload_case() == v1::LoyaltyEvent::kPointsReversed;
  if (!relevant || event.source_service() == "referral" || !members_.Followed(event.member_id())) {
    ++batch.result.ignored;
    return;
  }
  MemberState* member = members_.Find(event.member_id());
  if (member == nullptr) {
    ++batch.result.ignored;
    return;
  }
  if (Duplicate(txn, *member, event, batch)) {
    ++batch.result.duplicates;
    return;
  }
  if (event.has_points_earned()) {
    OnPurchase(txn, *member, event);
  } else {
    OnRefund(txn, *member, event);
  }
  ++batch.result.applied;
}

bool QualificationFlow::Duplicate(Txn& txn, MemberState& member, const v1::LoyaltyEvent& event,
                                  EventBatch& batch) {
  // Accrual's ids are "<member_id>:<sequence>" with a per-member sequence that only grows,
  // so the last sequence applied is the whole dedupe record.
  int64_t sequence = AccrualSequence(event);
  if (sequence >= 0) {
    if (sequence <= member.last_accrual_sequence()) return true;
    member.set_last_accrual_sequence(sequence);
    MemberBook::Touch(txn, member);
    return false;
  }
  std::string ignored;
  if (batch.seen_ids.count(event.event_id()) ||
      store_.Get(cf::kDedupe, event.event_id(), &ignored)) {
    return true;
  }
  batch.seen_ids.insert(event.event_id());
  txn.Put(cf::kDedupe, event.event_id(), DedupeRecord(clock_.NowMs()));
  return false;
}

void QualificationFlow::RememberPurchase(Txn& txn, MemberState& member,
                                         const v1::PointsEarned& earned, TimeMs at) {
  auto* recent = member.mutable_recent_purchases();
  int64_t keep_after = at.value() - config_.same_store_minutes * kMinuteMs;
  recent->erase(std::remove_if(recent->begin(), recent->end(),
                               [&](const auto& p) { return p.at_ms() < keep_after; }),
                recent->end());
  if (static_cast<size_t>(recent->size()) >= kMaxRecentPurchases) recent->erase(recent->begin());
  auto* p = recent->Add();
  p->set_store_id(earned.store_id());
  p->set_at_ms(at.value());
  MemberBook::Touch(txn, member);
}

void QualificationFlow::OnPurchase(Txn& txn, MemberState& member, const v1::LoyaltyEvent& event) {
  const auto& earned = event.points_earned();
  const TimeMs at(event.occurred_at_ms());
  if (member.referrals_made() > 0 && !earned.store_id().empty()) {
    RememberPurchase(txn, member, earned, at);
  }
  if (member.referral_id().empty()) return;
  v1::Referral* r = referrals_.Find(member.referral_id());
  if (r == nullptr || !r->purchase_id().empty()) return;  // only the first qualifying purchase
  if (r->status() != v1::REFERRAL_STATUS_PENDING && r->status() != v1::REFERRAL_STATUS_HELD) {
    return;
  }
  // Purchases before the code was applied (e.g. history read on a first start) do not count.
  if (at.value() < r->applied_at_ms()) return;
  if (earned.breakdown().amount_minor() < config_.min_purchase_minor) return;
  if (at.value() > r->applied_at_ms() + config_.qualify_within_days * kDayMs) {
    referrals_.Expire(
        txn, *r,
        "no qualifying purchase within " + std::to_string(config_.qualify_within_days) + " days");
    return;
  }
  JudgePurchase(txn, *r, earned, at);
}

void QualificationFlow::JudgePurchase(Txn& txn, v1::Referral& r, const v1::PointsEarned& earned,
                                      TimeMs at) {
  const bool held = r.status() == v1::REFERRAL_STATUS_HELD;
  r.set_purchase_id(earned.purchase_id());
  r.set_store_id(earned.store_id());
  r.set_purchased_at_ms(at.value());
  // Accrual's return window for this purchase ends when its pending points are released;
  // only when accrual has no window (points credited at once) does referral's own apply.
  r.set_return_window_ends_at_ms(earned.breakdown().pending() &&
                                         earned.breakdown().release_at_ms() > 0
                                     ? earned.breakdown().release_at_ms()
                                     : at.value() + config_.return_window_days * kDayMs);
  referrals_.Touch(txn, r);
  if (config_.same_store != RuleAction::kOff && !earned.store_id().empty()) {
    if (const MemberState* referrer = members_.Find(r.referrer_id()); referrer != nullptr) {
      if (auto detail = SameStoreHit(*referrer, earned.store_id(), at, config_)) {
        if (config_.same_store == RuleAction::kReject) {
          referrals_.Reject(txn, r, "same_store", *detail);
        } else if (!held) {
          referrals_.Hold(txn, r, "same_store", *detail);
        }
        return;
      }
    }
  }
  // A referral held at application waits for the operator, now with its purchase.
  if (!held) referrals_.Qualify(txn, r);
}

void QualificationFlow::OnRefund(Txn& txn, MemberState& member, const v1::LoyaltyEvent& event) {
  if (member.referral_id().empty()) return;
  v1::Referral* r = referrals_.Find(member.referral_id());
  const auto& reversed = event.points_reversed();
  if (r == nullptr || r->purchase_id().empty() || r->purchase_id() != reversed.purchase_id()) {
    return;
  }
  if (r->status() == v1::REFERRAL_STATUS_HELD) {
    referrals_.Reject(txn, *r, "purchase_refunded", "the qualifying purchase was refunded");
    return;
  }
  if (r->status() != v1::REFERRAL_STATUS_QUALIFIED && r->status() != v1::REFERRAL_STATUS_REWARDED) {
    return;
  }
  // Referrals qualified before the window was recorded on them have referral's own.
  int64_t window_ends = r->return_window_ends_at_ms() > 0
                            ? r->return_window_ends_at_ms()
                            : r->purchased_at_ms() + config_.return_window_days * kDayMs;
  if (event.occurred_at_ms() > window_ends) return;
  referrals_.Reverse(txn, *r, reversed.refund_id());
}

}  // namespace loyalty::referral
