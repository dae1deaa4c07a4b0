// Members as referral knows them: their records (loaded from the store on first use and
// kept), the set of members whose accrual events matter (invitees and referrers), and the
// events referral publishes for a member, stamped with the member's own sequence.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/clock.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "services/referral/core/txn.h"
#include "services/referral/core/types.h"

namespace loyalty::referral {

class MemberBook {
 public:
  // Loads the followed set: a scan of the members column family.
  MemberBook(const Store& store, const Clock& clock);

  MemberState* Find(const std::string& member_id);
  // The member's record, created if referral has none; written with txn.
  MemberState& GetOrCreate(Txn& txn, const std::string& member_id);
  // The record is written with the transaction.
  static void Touch(Txn& txn, const MemberState& member) {
    txn.dirty_members.insert(member.member_id());
  }

  // Everything else on loyalty.events.v1 is skipped without a read or a write.
  bool Followed(const std::string& member_id) const { return followed_.count(member_id) > 0; }
  void Follow(const std::string& member_id) { followed_.insert(member_id); }

  // Publishes event as the member's next referral event (ids "referral:<member>:<seq>").
  void Publish(Txn& txn, const std::string& member_id, v1::LoyaltyEvent event);

  void WriteDirty(const Txn& txn, StagedWrite& write) const;

 private:
  const Store& store_;
  const Clock& clock_;
  std::unordered_map<std::string, MemberState> members_;  // loaded on first use
  std::unordered_set<std::string> followed_;
};

}  // namespace loyalty::referral
