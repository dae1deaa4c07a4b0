// What redemption keeps per member: its own event sequence and the units redeemed of each
// reward (for per-member limits). Loaded on first use and kept.
#pragma once

#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/redemption_internal.pb.h"
#include "services/redemption/core/txn.h"

namespace loyalty::redemption {

class MemberStates {
 public:
  MemberStates(const Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  v1::redemptioninternal::MemberState& Get(const std::string& member_id);
  int64_t UnitsOf(const std::string& member_id, const std::string& reward_id);
  void AddUnits(Txn& txn, const std::string& member_id, const std::string& reward_id,
                int64_t units);
  // Publishes event in the member's redemption sequence ("redemption:<member>:<n>").
  void Emit(Txn& txn, const std::string& member_id, v1::LoyaltyEvent event);
  void WriteDirty(const Txn& txn, StagedWrite& write) const;

 private:
  const Store& store_;
  const Clock& clock_;
  std::unordered_map<std::string, v1::redemptioninternal::MemberState> members_;
};

}  // namespace loyalty::redemption
