#include "services/referral/core/member_book.h"

#include "common/check.h"
#include "common/event_stamp.h"

namespace loyalty::referral {

MemberBook::MemberBook(const Store& store, const Clock& clock, int64_t cache_bytes)
    : store_(store), clock_(clock), cache_(cache_bytes) {}

MemberState* MemberBook::Find(const std::string& member_id) {
  if (MemberState* cached = cache_.Find(member_id)) return cached;
  if (absent_.count(member_id) > 0) return nullptr;
  std::string value;
  if (member_id.empty() || !store_.Get(cf::kMembers, member_id, &value)) return nullptr;
  MemberState record;
  if (!record.ParseFromString(value)) return nullptr;
  return &cache_.Insert(member_id, std::move(record), static_cast<int64_t>(value.size()));
}

bool MemberBook::Followed(const std::string& member_id) {
  const MemberState* m = Find(member_id);
  return m != nullptr && (!m->referral_id().empty() || m->referrals_made() > 0);
}

MemberState& MemberBook::GetOrCreate(Txn& txn, const std::string& member_id) {
  LOYALTY_CHECK(!member_id.empty(), "a member record needs an id");
  MemberState* m = Find(member_id);
  if (m == nullptr) {
    m = &cache_.Insert(member_id, MemberState(), 0);
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
    const MemberState* member = cache_.Peek(id);
    LOYALTY_CHECK(member != nullptr, "a dirty member record stays cached until staged");
    write.Put(cf::kMembers, id, member->SerializeAsString());
  }
}

void MemberBook::Staged(const Txn& txn, uint64_t ticket) {
  for (const auto& id : txn.dirty_members) cache_.Written(id, ticket);
}

}  // namespace loyalty::referral
