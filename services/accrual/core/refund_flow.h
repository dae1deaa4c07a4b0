// A refund from Kafka: the points its share of the purchase earned are clawed back, from
// pending points first, then the available balance, and what is missing becomes debt. A
// refund that overtakes its purchase is parked until the purchase arrives.
#pragma once

#include "services/accrual/core/commands.h"
#include "services/accrual/core/modules.h"

namespace loyalty::accrual {

class RefundFlow {
 public:
  explicit RefundFlow(Modules& modules) : m_(modules) {}

  // replaying_parked: a parked refund applied now that its purchase came.
  void Apply(Txn& txn, const InputMessage& source, const v1::RefundEvent& refund,
             BatchResult& result, bool replaying_parked = false);

 private:
  Status Validate(const v1::RefundEvent& refund) const;
  void Park(Txn& txn, const v1::RefundEvent& refund, BatchResult& result);
  void ClawBack(Txn& txn, const v1::RefundEvent& refund, v1::internal::PurchaseRecord& record,
                BatchResult& result);

  Modules& m_;
};

}  // namespace loyalty::accrual
