#include "services/accrual/core/member_book.h"

#include "common/field_limits.h"
#include "common/key_codec.h"

namespace loyalty::accrual {
namespace {
constexpr char kMemberCountKey[] = "member_count";
}  // namespace

MemberBook::MemberBook(const Store& store, int64_t cache_bytes)
    : store_(store), cache_(cache_bytes) {
  std::string value;
  if (store_.Get(cf::kMeta, kMemberCountKey, &value)) count_ = keys::ReadI64(value);
}

MemberRecord* MemberBook::Find(const std::string& member_id) {
  if (MemberRecord* cached = cache_.Find(member_id)) return cached;
  std::string value;
  if (member_id.empty() || !store_.Get(cf::kMembers, member_id, &value)) return nullptr;
  MemberRecord record;
  if (!record.ParseFromString(value)) return nullptr;
  return &cache_.Insert(member_id, std::move(record), static_cast<int64_t>(value.size()));
}

void MemberBook::Prefetch(const std::vector<std::string>& member_ids) {
  PrefetchRecords(cache_, store_, cf::kMembers, member_ids);
}

StatusOr<MemberRecord*> MemberBook::FindActive(const std::string& field,
                                               const std::string& member_id) {
  if (member_id.empty()) return InvalidArgument(field + ": required");
  MemberRecord* member = Find(member_id);
  if (member == nullptr) return NotFound(field + ": member '" + Quote(member_id) + "' not found");
  if (member->member().status() == v1::MEMBER_STATUS_ERASED) {
    return FailedPrecondition(field + ": member '" + Quote(member_id) + "' is erased");
  }
  return member;
}

MemberRecord& MemberBook::Create(Txn& txn, const std::string& member_id) {
  MemberRecord& record = cache_.Insert(member_id, MemberRecord(), 0);
  ++count_;
  txn.member_count_changed = true;
  Touch(txn, record);
  return record;
}

bool MemberBook::ContactTaken(const std::string& contact_key) const {
  std::string owner;
  return store_.Get(cf::kContacts, contact_key, &owner);
}

void MemberBook::AddContact(Txn& txn, const std::string& contact_key,
                            const std::string& member_id) const {
  txn.Put(cf::kContacts, contact_key, member_id, /*visible=*/true);
}

void MemberBook::RemoveContact(Txn& txn, const std::string& contact_key) const {
  txn.Erase(cf::kContacts, contact_key);
}

void MemberBook::WriteDirty(const Txn& txn, StagedWrite& write) const {
  for (const MemberRecord* member : txn.dirty_members) {
    write.Put(cf::kMembers, member->member().member_id(), member->SerializeAsString());
  }
  if (txn.member_count_changed) write.Put(cf::kMeta, kMemberCountKey, keys::EncodeI64(count_));
}

void MemberBook::Staged(const Txn& txn, uint64_t ticket) {
  for (const MemberRecord* member : txn.dirty_members) {
    cache_.Written(member->member().member_id(), ticket);
  }
}

}  // namespace loyalty::accrual
