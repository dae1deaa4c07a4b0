// Members as referral knows them: their records (read from the store on first use and kept
// in a bounded cache), which members' accrual events matter (invitees and referrers), and
// the events referral publishes for a member, stamped with the member's own sequence.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/record_cache.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "services/referral/core/txn.h"
#include "services/referral/core/types.h"

namespace loyalty::referral {

class MemberBook {
 public:
  // cache_bytes: the budget of member records kept in memory.
  MemberBook(const Store& store, const Clock& clock, int64_t cache_bytes);

  // The record stays valid until the next Trim.
  MemberState* Find(const std::string& member_id);
  // Reads the records of those members that are not cached in one MultiGet. The ids
  // referral has no record of (most members of a batch) are remembered until the next Trim,
  // so that Find does not ask the store for them again.
  void Prefetch(const std::vector<std::string>& member_ids) {
    for (auto& id : PrefetchRecords(cache_, store_, cf::kMembers, member_ids)) {
      absent_.insert(std::move(id));
    }
  }
  // The member's record, created if referral has none; written with txn.
  MemberState& GetOrCreate(Txn& txn, const std::string& member_id);
  // The record is written with the transaction.
  static void Touch(Txn& txn, const MemberState& member) {
    txn.dirty_members.insert(member.member_id());
  }

  // Whether the member's accrual events matter: it applied a code or made a referral.
  // Everything else on loyalty.events.v1 is skipped without a write (a miss in the store's
  // bloom filter, mostly: most members never refer anyone).
  bool Followed(const std::string& member_id);

  // Publishes event as the member's next referral event (ids "referral:<member>:<seq>").
  void Publish(Txn& txn, const std::string& member_id, v1::LoyaltyEvent event);

  void WriteDirty(const Txn& txn, StagedWrite& write) const;
  // The transaction's records were staged in the write group of ticket.
  void Staged(const Txn& txn, uint64_t ticket);
  // Lets records over the cache budget go (those whose writes are durable). Only where no
  // pointer from Find or GetOrCreate is held: between transactions.
  void Trim() {
    absent_.clear();
    cache_.Trim(store_.durable_ticket());
  }
  const RecordCacheStats& cache_stats() const { return cache_.stats(); }

 private:
  const Store& store_;
  const Clock& clock_;
  RecordCache<MemberState> cache_;
  // Ids the store had no record of at the last Prefetch; a record made since is in cache_,
  // which Find asks first.
  std::unordered_set<std::string> absent_;
};

}  // namespace loyalty::referral
