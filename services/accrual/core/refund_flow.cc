#include "services/accrual/core/refund_flow.h"

#include <algorithm>

#include "common/field_limits.h"
#include "services/accrual/core/earning.h"
#include "services/accrual/core/purchase_flow.h"
#include "services/accrual/core/rules.h"
#include "services/accrual/core/validation.h"

namespace loyalty::accrual {

using v1::internal::PurchaseRecord;

Status RefundFlow::Validate(const v1::RefundEvent& refund) const {
  if (!ValidId(refund.refund_id())) {
    return InvalidArgument("refund_id: required, 1-128 letters, digits and _ - . : @");
  }
  if (!ValidId(refund.purchase_id())) {
    return InvalidArgument("purchase_id: required, 1-128 letters, digits and _ - . : @");
  }
  if (refund.amount_minor() <= 0) return InvalidArgument("amount_minor: must be positive");
  return ValidateLines(refund.lines());
}

void RefundFlow::Apply(Txn& txn, const InputMessage& source, const v1::RefundEvent& refund,
                       BatchResult& result, bool replaying_parked) {
  if (Status invalid = Validate(refund); !invalid.ok()) {
    return Reject(txn, source, "invalid", invalid.message(), result);
  }
  std::string seen;
  bool seen_before = txn.refunds.count(refund.refund_id()) ||
                     m_.store.Get(cf::kRefunds, refund.refund_id(), &seen);
  // A parked refund was recorded as seen when it was parked.
  if (seen_before && !replaying_parked) {
    ++result.duplicates;
    return;
  }
  std::optional<PurchaseRecord> record = FindPurchase(txn, m_.store, refund.purchase_id());
  if (!record) return Park(txn, refund, result);  // it overtook its purchase (another topic)
  if (!refund.member_id().empty() && refund.member_id() != record->member_id()) {
    return Reject(txn, source, "invalid",
                  "member_id: refund names '" + Quote(refund.member_id()) + "' but purchase '" +
                      Quote(refund.purchase_id()) + "' belongs to '" + Quote(record->member_id()) +
                      "'",
                  result);
  }
  int64_t left = record->amount_minor() - record->refunded_minor();
  if (refund.amount_minor() > left) {
    return Reject(txn, source, "invalid",
                  "amount_minor: refund of " + std::to_string(refund.amount_minor()) +
                      " exceeds the " + std::to_string(left) + " left of purchase '" +
                      Quote(refund.purchase_id()) + "'",
                  result);
  }
  ClawBack(txn, refund, *record, result);
}

void RefundFlow::Park(Txn& txn, const v1::RefundEvent& refund, BatchResult& result) {
  auto parked = txn.parked.find(refund.purchase_id());
  if (parked == txn.parked.end()) {
    v1::internal::ParkedRefunds stored_refunds;
    std::string stored;
    if (m_.store.Get(cf::kParkedRefunds, refund.purchase_id(), &stored)) {
      stored_refunds.ParseFromString(stored);
    }
    parked = txn.parked.emplace(refund.purchase_id(), std::move(stored_refunds)).first;
  }
  parked->second.add_refunds(refund.SerializeAsString());
  txn.refunds[refund.refund_id()] = refund.purchase_id();
  ++result.refunds_parked;
}

void RefundFlow::ClawBack(Txn& txn, const v1::RefundEvent& refund, PurchaseRecord& record,
                          BatchResult& result) {
  const std::string& purchase_id = refund.purchase_id();
  Points claw(ClawbackPoints(record.points_earned(), record.amount_minor(), record.refunded_minor(),
                             refund.amount_minor(), record.points_clawed()));
  record.set_refunded_minor(record.refunded_minor() + refund.amount_minor());
  record.set_points_clawed(record.points_clawed() + claw.value());
  // Inside the return window the points are still pending: cancel those first.
  Points from_pending = Min(claw, Points(record.pending_points()));
  record.set_pending_points(record.pending_points() - from_pending.value());
  txn.purchases[purchase_id] = record;
  txn.refunds[refund.refund_id()] = purchase_id;
  ++result.refunds_applied;
  if (record.member_id().empty()) return;  // a non-member purchase earned nothing

  MemberRecord* member = m_.members.Find(record.member_id());
  if (member == nullptr) return;
  bool full_refund = record.refunded_minor() == record.amount_minor();
  RecordSpend(m_.config, *member, record.day(), -refund.amount_minor(), full_refund ? -1 : 0,
              m_.clock.NowMs());
  if (!record.partner_id().empty()) m_.partners.ClawedBack(txn, record.partner_id(), claw);

  Posting posting =
      DebitPosting(v1::LEDGER_KIND_CLAWBACK, member->member().balance(), claw - from_pending);
  posting.pending = -from_pending;
  Points from_balance = -posting.available;
  Points to_debt = posting.debt;
  posting.reason =
      "refund " + refund.refund_id() + " of " + std::to_string(refund.amount_minor()) +
      " on purchase " + purchase_id +
      (from_pending.positive() ? "; " + std::to_string(from_pending.value()) + " pending cancelled"
                               : "") +
      (to_debt.positive() ? "; " + std::to_string(to_debt.value()) + " owed as debt" : "");
  posting.source_id = refund.refund_id();
  v1::LoyaltyEvent event;
  auto* reversed = event.mutable_points_reversed();
  reversed->set_refund_id(refund.refund_id());
  reversed->set_purchase_id(purchase_id);
  reversed->set_points(claw.value());
  reversed->set_from_balance((from_balance + from_pending).value());
  reversed->set_added_to_debt(to_debt.value());
  m_.ledger.Post(txn, *member, std::move(posting), std::move(event));
  result.points_clawed_back += claw.value();
}

}  // namespace loyalty::accrual
