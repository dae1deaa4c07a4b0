#include "services/referral/core/member_book.h"

#include "common/check.h"
#include "common/event_stamp.h"

namespace loyalty::referral {

MemberBook::MemberBook(const Store& store, const Clock& clock) : store_(store), clock_(clock) {
  store_.Scan(cf::kMembers, "", "", [&](std::string_view key, std::string_view v) {
    MemberState m;
    m.ParseFromArray(v.data(), static_cast<int>(v.size()));
    if (!m.referral_id().empty() || m.referrals_made() > 0) followed_.emplace(key);
    return true;
  });
}

MemberState* MemberBook::Find(const std::string& member_id) {
  if (auto it = members_.find(member_id); it != members_.end()) return &it->second;
  std::string value;
  if (member_id.empty() || !store_.Get(cf::kMembers, member_id, &value)) return nullptr;
  MemberState& slot = members_[member_id];
  slot.ParseFromString(value);
  return &slot;
}

MemberState& MemberBook::GetOrCreate(Txn& txn, const std::string& member_id) {
  LOYALTY_CHECK(!member_id.empty(), "a member record needs an id");
  MemberState* m = Find(member_id);
  if (m == nullptr) {
    m = &members_[member_id];
    m->set_member_id(member_id);
  }
  Touch(txn, *m);
  return *m;
}

void MemberBook::Publish(Txn& txn, const std::string& member_id, v1::LoyaltyEvent event) {
  MemberState& member = GetOrCreate(txn, member_id);
  // Prefixed, so that referral's ids never collide with accrual's "<member_id>:<sequence>".
  static const EventSource kSource{"referral", "referral:"};
  int64_t sequence = member.last_event_sequence();
  txn.Publish(StampEvent(kSource, sequence, member_id, clock_.NowMs(), txn.principal, event));
  LOYALTY_CHECK(sequence > member.last_event_sequence(), "a member's event sequence only grows");
  member.set_last_event_sequence(sequence);
}

void MemberBook::WriteDirty(const Txn& txn, StagedWrite& write) const {
  for (const auto& id : txn.dirty_members) {
    write.Put(cf::kMembers, id, members_.at(id).SerializeAsString());
  }
}

}  // namespace loyalty::referral
