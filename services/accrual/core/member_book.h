// Members: their records (read from the store on first use and kept in a bounded cache), the
// contact index that keeps phones and e-mails unique, and the member count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/record_cache.h"
#include "common/status.h"
#include "common/store.h"
#include "services/accrual/core/txn.h"
#include "services/accrual/core/types.h"

namespace loyalty::accrual {

class MemberBook {
 public:
  // cache_bytes: the budget of member records kept in memory.
  MemberBook(const Store& store, int64_t cache_bytes);

  // The record stays valid until the next Trim.
  MemberRecord* Find(const std::string& member_id);
  // Reads the records of those members that are not cached in one MultiGet, so that a batch
  // of input finds them in memory (ids that name no member are skipped).
  void Prefetch(const std::vector<std::string>& member_ids);
  // The member of an id a caller gave in field: INVALID_ARGUMENT, NOT_FOUND or, if erased,
  // FAILED_PRECONDITION otherwise.
  StatusOr<MemberRecord*> FindActive(const std::string& field, const std::string& member_id);
  // A new member's record, counted; the caller fills it in.
  MemberRecord& Create(Txn& txn, const std::string& member_id);
  // The member a contact key ("phone:+380..." or "email:...") belongs to, if any.
  bool ContactTaken(const std::string& contact_key) const;
  void AddContact(Txn& txn, const std::string& contact_key, const std::string& member_id) const;
  void RemoveContact(Txn& txn, const std::string& contact_key) const;
  // The record is written with the transaction.
  static void Touch(Txn& txn, MemberRecord& member) { txn.dirty_members.insert(&member); }
  void WriteDirty(const Txn& txn, StagedWrite& write) const;
  // The transaction's records were staged in the write group of ticket.
  void Staged(const Txn& txn, uint64_t ticket);
  // Lets records over the cache budget go (those whose writes are durable). Only where no
  // pointer from Find or Create is held: between transactions.
  void Trim() { cache_.Trim(store_.durable_ticket()); }
  int64_t count() const { return count_; }
  const RecordCacheStats& cache_stats() const { return cache_.stats(); }

 private:
  const Store& store_;
  RecordCache<MemberRecord> cache_;
  int64_t count_ = 0;
};

}  // namespace loyalty::accrual
