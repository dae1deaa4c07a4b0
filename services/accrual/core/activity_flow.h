// An activity from Kafka (a review, a check-in, ...): points by the program's rule for its
// type, at most once per object if the rule says so, within the type's daily cap.
#pragma once

#include "services/accrual/core/commands.h"
#include "services/accrual/core/modules.h"

namespace loyalty::accrual {

class ActivityFlow {
 public:
  explicit ActivityFlow(Modules& modules) : m_(modules) {}

  void Apply(Txn& txn, const InputMessage& source, const v1::ActivityEvent& activity,
             BatchResult& result);

 private:
  // The points the day's cap still allows for this activity's type (and books them).
  Points TakeFromDailyCap(Txn& txn, MemberRecord& member, const v1::ActivityEvent& activity,
                          const ActivityRule& rule);

  Modules& m_;
};

}  // namespace loyalty::accrual
