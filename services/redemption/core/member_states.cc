#include "services/redemption/core/member_states.h"

#include <algorithm>

#include "common/event_stamp.h"
#include "services/redemption/core/types.h"

namespace loyalty::redemption {

v1::redemptioninternal::MemberState& MemberStates::Get(const std::string& member_id) {
  auto it = members_.find(member_id);
  if (it != members_.end()) return it->second;
  auto& state = members_[member_id];
  std::string value;
  if (store_.Get(cf::kMembers, member_id, &value)) state.ParseFromString(value);
  return state;
}

int64_t MemberStates::UnitsOf(const std::string& member_id, const std::string& reward_id) {
  const auto& units = Get(member_id).units_by_reward();
  auto it = units.find(reward_id);
  return it == units.end() ? 0 : it->second;
}

void MemberStates::AddUnits(Txn& txn, const std::string& member_id, const std::string& reward_id,
                            int64_t units) {
  auto& used = (*Get(member_id).mutable_units_by_reward())[reward_id];
  used = std::max<int64_t>(0, used + units);
  txn.dirty_members.insert(member_id);
}

void MemberStates::Emit(Txn& txn, const std::string& member_id, v1::LoyaltyEvent event) {
  auto& member = Get(member_id);
  // Redemption's own per-member sequence: the prefix keeps ids apart from accrual's.
  static const EventSource kSource{"redemption", "redemption:"};
  int64_t sequence = member.last_sequence();
  txn.Publish(StampEvent(kSource, sequence, member_id, clock_.NowMs(), txn.principal, event));
  member.set_last_sequence(sequence);
  txn.dirty_members.insert(member_id);
}

void MemberStates::WriteDirty(const Txn& txn, StagedWrite& write) const {
  for (const auto& id : txn.dirty_members) {
    write.Put(cf::kMembers, id, members_.at(id).SerializeAsString());
  }
}

}  // namespace loyalty::redemption
