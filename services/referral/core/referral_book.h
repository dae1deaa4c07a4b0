// Referrals and their state machine. The book owns the records (read on first use and kept
// in a bounded cache), the index by referrer (for stats and listing), the list of held referrals
// (for review) and the work list (referrals with a pending award or reversal step, for the award
// worker). Every change of a referral's status goes through one of the transitions below,
// which checks that the state machine allows it:
//
//   PENDING -> HELD | REJECTED | QUALIFIED | EXPIRED
//   HELD    -> PENDING (approved before a purchase) | REJECTED | QUALIFIED | EXPIRED
//   QUALIFIED -> REWARDED | REVERSED;  REWARDED -> REVERSED
//   REJECTED, REVERSED, EXPIRED are final.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/record_cache.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/referral.pb.h"
#include "services/referral/core/member_book.h"
#include "services/referral/core/txn.h"
#include "services/referral/core/types.h"

namespace loyalty::referral {

// Whether the state machine allows a referral to move from one status to the other.
bool MayMove(v1::ReferralStatus from, v1::ReferralStatus to);
// Whether an award or reversal of either side waits for accrual.
bool HasPendingStep(const v1::Referral& referral);

class ReferralBook {
 public:
  // Loads the work list. cache_bytes: the budget of referral records kept in memory.
  ReferralBook(const Store& store, const Clock& clock, MemberBook& members, int64_t cache_bytes);

  // The record stays valid until the next Trim.
  v1::Referral* Find(const std::string& referral_id);
  // Keeps a new PENDING referral and indexes it by referrer; the caller then judges it.
  v1::Referral& Create(Txn& txn, v1::Referral referral);
  // The referral is written with txn; the work list follows its pending steps.
  void Touch(Txn& txn, const v1::Referral& referral);

  // The transitions. Each sets the status, keeps the held list, publishes what others must
  // know (ReferralRejected, ReferralQualified) and notes its fact.
  void Hold(Txn& txn, v1::Referral& referral, const std::string& reason, const std::string& detail);
  void Release(Txn& txn, v1::Referral& referral);  // an operator approved it before a purchase
  void Reject(Txn& txn, v1::Referral& referral, const std::string& reason,
              const std::string& detail);
  // The bonuses become pending steps (the invitee's only if it has points).
  void Qualify(Txn& txn, v1::Referral& referral);
  void Expire(Txn& txn, v1::Referral& referral, const std::string& detail);
  // Every bonus paid or being paid gets a pending reversal.
  void Reverse(Txn& txn, v1::Referral& referral, const std::string& refund_id);
  // A qualified referral whose steps are all done (or failed) is rewarded.
  void RewardIfPaid(Txn& txn, v1::Referral& referral);

  // Referrals with a pending step, by id.
  const std::set<std::string>& work() const { return work_; }
  // The ids of the referrals member_id made, oldest first.
  std::vector<std::string> IdsOfReferrer(const std::string& member_id) const;
  // Where a page of member_id's referrals starts: after the referral named by page_token
  // (read from the store, not the cache, so callers may ask without the core's mutex).
  StatusOr<std::string> PageStart(const std::string& member_id,
                                  const std::string& page_token) const;
  v1::ListReferralsResponse ListOfReferrer(const std::string& member_id, const std::string& from,
                                           int page_size);
  v1::ListReferralsResponse ListHeld(const std::string& page_token, int page_size);

  void WriteDirty(const Txn& txn, StagedWrite& write) const;
  // The transaction's records were staged in the write group of ticket.
  void Staged(const Txn& txn, uint64_t ticket);
  // Lets records over the cache budget go; only between transactions (see MemberBook).
  void Trim() { cache_.Trim(store_.durable_ticket()); }
  const RecordCacheStats& cache_stats() const { return cache_.stats(); }

 private:
  void Move(v1::Referral& referral, v1::ReferralStatus to);
  void Publish(Txn& txn, const std::string& member_id, v1::LoyaltyEvent event) {
    members_.Publish(txn, member_id, std::move(event));
  }

  const Store& store_;
  const Clock& clock_;
  MemberBook& members_;
  RecordCache<v1::Referral> cache_;
  std::set<std::string> work_;
};

}  // namespace loyalty::referral
