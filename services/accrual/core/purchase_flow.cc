#include "services/accrual/core/purchase_flow.h"

#include <algorithm>

#include "common/dead_letter.h"
#include "common/field_limits.h"
#include "services/accrual/core/refund_flow.h"
#include "services/accrual/core/rules.h"
#include "services/accrual/core/validation.h"

namespace loyalty::accrual {
namespace {

using v1::internal::PurchaseRecord;

std::string FormatPercent(int32_t bp) {
  std::string s = std::to_string(bp / 100);
  if (bp % 100 != 0) {
    std::string frac = std::to_string(bp % 100);
    if (frac.size() == 1) frac = "0" + frac;
    if (frac.back() == '0') frac.pop_back();
    s += "." + frac;
  }
  return s + "%";
}

}  // namespace

void Reject(Txn& txn, const InputMessage& source, const std::string& kind,
            const std::string& reason, BatchResult& result) {
  txn.Publish(DeadLetterRecord(source, kind, reason));
  ++result.dead_lettered[source.topic + "|" + kind];
}

std::optional<PurchaseRecord> FindPurchase(const Txn& txn, const Store& store,
                                           const std::string& purchase_id) {
  if (auto it = txn.purchases.find(purchase_id); it != txn.purchases.end()) return it->second;
  std::string stored;
  if (!store.Get(cf::kPurchases, purchase_id, &stored)) return std::nullopt;
  PurchaseRecord record;
  record.ParseFromString(stored);
  return record;
}

PurchaseFlow::PurchaseFlow(Modules& modules, RefundFlow& refunds) : m_(modules), refunds_(refunds) {
  m_.timers.Register(TimerKind::kReleasePending,
                     [this](Txn& txn, const DueTimer& t, MemberRecord& member) {
                       ReleasePending(txn, t, member);
                     });
}

Status PurchaseFlow::Validate(const v1::PurchaseEvent& purchase) const {
  const AccrualConfig& config = m_.config;
  if (purchase.purchase_id().empty()) return InvalidArgument("purchase_id: required");
  if (!ValidId(purchase.purchase_id())) {
    return InvalidArgument("purchase_id: use 1-128 letters, digits and _ - . : @");
  }
  if (purchase.amount_minor() <= 0 || purchase.amount_minor() > config.max_amount_minor) {
    return InvalidArgument("amount_minor: must be in 1.." +
                           std::to_string(config.max_amount_minor));
  }
  if (purchase.currency() != config.currency) {
    return InvalidArgument("currency: '" + Quote(purchase.currency()) +
                           "' is not the program currency " + config.currency);
  }
  if (!purchase.partner_id().empty() && config.FindPartner(purchase.partner_id()) == nullptr) {
    return InvalidArgument("partner_id: '" + Quote(purchase.partner_id()) +
                           "' is not a partner of the program");
  }
  return ValidateLines(purchase.lines());
}

void PurchaseFlow::Apply(Txn& txn, const InputMessage& source, const v1::PurchaseEvent& purchase,
                         BatchResult& result) {
  if (Status invalid = Validate(purchase); !invalid.ok()) {
    return Reject(txn, source, "invalid", invalid.message(), result);
  }
  std::string ignored;
  if (txn.purchases.count(purchase.purchase_id()) ||
      m_.store.Get(cf::kPurchases, purchase.purchase_id(), &ignored)) {
    ++result.duplicates;
    return;
  }
  int64_t now = m_.clock.NowMs();
  PurchaseRecord record;
  record.set_member_id(purchase.member_id());
  record.set_amount_minor(purchase.amount_minor());
  record.set_currency(purchase.currency());
  record.set_day(DayOf(now));
  record.set_partner_id(purchase.partner_id());
  if (purchase.member_id().empty()) {
    ++result.non_member_purchases;
    result.non_member_spend_minor += purchase.amount_minor();
    txn.purchases[purchase.purchase_id()] = record;
    return;
  }
  MemberRecord* member = m_.members.Find(purchase.member_id());
  if (member == nullptr || member->member().status() == v1::MEMBER_STATUS_ERASED) {
    bool unknown = member == nullptr;
    return Reject(txn, source, unknown ? "unknown_member" : "erased_member",
                  "member_id: member '" + purchase.member_id() +
                      (unknown ? "' is not enrolled" : "' is erased"),
                  result);
  }

  std::vector<v1::Campaign*> applied;
  v1::EarnBreakdown breakdown =
      ComputeEarning(m_.config, *member, purchase, m_.campaigns.ByPriority(), now, &applied);
  Points points(breakdown.total_points());
  m_.campaigns.Spend(txn, *member, breakdown, applied);
  Points earned_before(member->member().balance().lifetime_earned());
  Post(txn, *member, purchase, std::move(breakdown), record);
  if (!purchase.partner_id().empty()) m_.partners.Issued(txn, purchase.partner_id(), points);
  // Tiers: the purchase counts toward qualification; an upgrade applies at once (from the
  // next purchase on: this one earned at the rate the member had when buying).
  RecordSpend(m_.config, *member, record.day(), purchase.amount_minor(), 1, now);
  member->set_purchases(member->purchases() + 1);
  m_.tiers.OnSpend(txn, *member);
  m_.milestones.Check(txn, *member, /*purchase_counted=*/true, earned_before);

  record.set_points_earned(points.value());
  txn.purchases[purchase.purchase_id()] = record;
  ++result.purchases_applied;
  result.member_spend_minor += purchase.amount_minor();
  if (member->purchases() > 1) ++result.repeat_purchases;
  result.points_earned += points.value();
  ReplayParkedRefunds(txn, purchase, result);
}

void PurchaseFlow::Post(Txn& txn, MemberRecord& member, const v1::PurchaseEvent& purchase,
                        v1::EarnBreakdown breakdown, PurchaseRecord& record) {
  Points points(breakdown.total_points());
  Posting posting;
  if (m_.config.ReturnWindowMs() > 0) {
    // Pending through the return window; debt is repaid when the points are released.
    TimeMs release_at = TimeMs(m_.clock.NowMs()) + DurationMs(m_.config.ReturnWindowMs());
    posting.kind = v1::LEDGER_KIND_EARN;
    posting.pending = points;
    record.set_pending_points(points.value());
    record.set_release_at_ms(release_at.value());
    breakdown.set_pending(true);
    breakdown.set_release_at_ms(release_at.value());
    breakdown.set_credited(points.value());
    m_.timers.Add(txn, release_at, TimerKind::kReleasePending, purchase.member_id(),
                  purchase.purchase_id());
  } else {
    posting = CreditPosting(v1::LEDGER_KIND_EARN, member.member().balance(), points);
    breakdown.set_debt_repaid(posting.repaid().value());
    breakdown.set_credited((points - posting.repaid()).value());
  }
  posting.reason = EarnReason(purchase, breakdown);
  posting.source_id = purchase.purchase_id();
  posting.metrics_source = breakdown.partner_id();
  // The entry and the event name campaigns by id only; ListLedger adds the names.
  v1::LoyaltyEvent event;
  auto* earned = event.mutable_points_earned();
  earned->set_purchase_id(purchase.purchase_id());
  earned->set_points(points.value());
  *earned->mutable_breakdown() = breakdown;
  earned->set_store_id(purchase.store_id());
  earned->set_partner_id(purchase.partner_id());
  posting.breakdown = std::move(breakdown);  // the event has its copy
  m_.ledger.Post(txn, member, std::move(posting), std::move(event));
}

std::string PurchaseFlow::EarnReason(const v1::PurchaseEvent& purchase,
                                     const v1::EarnBreakdown& breakdown) {
  int64_t points = breakdown.total_points();
  std::string reason =
      "purchase " + purchase.purchase_id() +
      (purchase.store_id().empty() ? "" : " at " + purchase.store_id()) + ": " +
      FormatPercent(breakdown.base_rate_bp()) + " (" +
      (breakdown.partner_id().empty() ? breakdown.tier() : "partner " + breakdown.partner_id()) +
      ") of " + std::to_string(purchase.amount_minor()) + " " + purchase.currency() +
      " minor units, rounded down";
  if (breakdown.campaigns_size() > 0) {
    reason += "; +" + std::to_string(points - breakdown.base_points()) + " from " +
              std::to_string(breakdown.campaigns_size()) + " campaign" +
              (breakdown.campaigns_size() > 1 ? "s" : "") + " (breakdown)";
  }
  if (breakdown.pending()) reason += "; pending until the return window ends";
  return reason;
}

void PurchaseFlow::ReplayParkedRefunds(Txn& txn, const v1::PurchaseEvent& purchase,
                                       BatchResult& result) {
  v1::internal::ParkedRefunds parked;
  std::string stored;
  if (auto it = txn.parked.find(purchase.purchase_id()); it != txn.parked.end()) {
    parked = it->second;
  } else if (m_.store.Get(cf::kParkedRefunds, purchase.purchase_id(), &stored)) {
    parked.ParseFromString(stored);
  } else {
    return;
  }
  txn.parked[purchase.purchase_id()].clear_refunds();
  for (const auto& bytes : parked.refunds()) {
    InputMessage replay;  // dead-lettered, if it must be, as a refund of no position
    replay.topic = kRefundsTopic;
    replay.partition = -1;
    replay.offset = -1;
    replay.key = purchase.member_id();
    replay.value = bytes;
    v1::RefundEvent refund;
    refund.ParseFromString(bytes);  // parked as a valid, decoded refund
    refunds_.Apply(txn, replay, refund, result, /*replaying_parked=*/true);
  }
}

void PurchaseFlow::ReleasePending(Txn& txn, const DueTimer& timer, MemberRecord& member) {
  std::optional<PurchaseRecord> record = FindPurchase(txn, m_.store, timer.reference);
  if (!record) return;
  Points points(record->pending_points());
  if (!points.positive()) return;  // refunded inside the window
  record->set_pending_points(0);
  txn.purchases[timer.reference] = *record;
  Posting posting =
      CreditPosting(v1::LEDGER_KIND_PENDING_RELEASE, member.member().balance(), points);
  posting.pending = -points;
  posting.reason = "points of purchase " + timer.reference + " released after the return window";
  posting.source_id = timer.reference;
  v1::LoyaltyEvent event;
  auto* released = event.mutable_pending_released();
  released->set_purchase_id(timer.reference);
  released->set_points(points.value());
  m_.ledger.Post(txn, member, std::move(posting), std::move(event));
}

}  // namespace loyalty::accrual
