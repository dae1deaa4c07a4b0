// A purchase from Kafka, in order: validate, dedupe, earn (base rate and campaigns), post
// (pending through the return window, or available at once), then tiers, milestones and
// any refunds that arrived before it. Also the release of pending points when the return
// window ends.
#pragma once

#include <optional>
#include <string>

#include "services/accrual/core/commands.h"
#include "services/accrual/core/modules.h"

namespace loyalty::accrual {

class RefundFlow;

// The record of a purchase applied in txn or before, if any.
std::optional<v1::internal::PurchaseRecord> FindPurchase(const Txn& txn, const Store& store,
                                                         const std::string& purchase_id);

class PurchaseFlow {
 public:
  PurchaseFlow(Modules& modules, RefundFlow& refunds);

  void Apply(Txn& txn, const InputMessage& source, const v1::PurchaseEvent& purchase,
             BatchResult& result);
  // The checks a purchase passes before it earns (SimulatePurchase makes the same).
  Status Validate(const v1::PurchaseEvent& purchase) const;

 private:
  // The ledger entry's reason: the rate, what it applied to, and the campaigns.
  static std::string EarnReason(const v1::PurchaseEvent& purchase,
                                const v1::EarnBreakdown& breakdown);
  void Post(Txn& txn, MemberRecord& member, const v1::PurchaseEvent& purchase,
            v1::EarnBreakdown breakdown, v1::internal::PurchaseRecord& record);
  void ReplayParkedRefunds(Txn& txn, const v1::PurchaseEvent& purchase, BatchResult& result);
  void ReleasePending(Txn& txn, const DueTimer& timer, MemberRecord& member);

  Modules& m_;
  RefundFlow& refunds_;
};

}  // namespace loyalty::accrual
