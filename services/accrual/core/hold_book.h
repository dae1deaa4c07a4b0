// Two-phase spending: a hold reserves points (OPEN), and ends exactly once as CAPTURED
// (some or all spent, the rest back), VOIDED (all back) or EXPIRED (its time passed, all
// back). The book owns the holds, the index of open holds by expiry, and the lot slices
// each hold took, so that points given back return to the lots they came from.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/accrual.pb.h"
#include "services/accrual/core/ledger.h"
#include "services/accrual/core/member_book.h"
#include "services/accrual/core/txn.h"

namespace loyalty::accrual {

class HoldBook {
 public:
  // Loads the index of open holds.
  HoldBook(const Store& store, MemberBook& members, Ledger& ledger, const Clock& clock);

  StatusOr<v1::Hold> Load(const std::string& hold_id) const;
  // Reserves points of member for ttl; FAILED_PRECONDITION if fewer are available.
  StatusOr<v1::Hold> Open(Txn& txn, MemberRecord& member, Points points, DurationMs ttl,
                          const std::string& reference);
  // Open then Capture of everything in one change: the same ledger entries and events, for
  // callers with nothing to do between the two.
  StatusOr<v1::Hold> OpenCaptured(Txn& txn, MemberRecord& member, Points points, DurationMs ttl,
                                  const std::string& reference);
  // Spends points of an open hold (0: all) and gives the rest back. A hold whose time has
  // passed is refused with expired_now set: its expiry is a change of its own.
  StatusOr<v1::Hold> Capture(Txn& txn, const std::string& hold_id, Points points,
                             bool& expired_now);
  StatusOr<v1::Hold> Void(Txn& txn, const std::string& hold_id);
  // Releases every open hold whose time has passed at now; returns how many.
  int ExpireDue(Txn& txn, TimeMs now);
  // Voids every open hold of a member (an erased member spends nothing more).
  void VoidAllOf(Txn& txn, const std::string& member_id);
  int64_t open_count() const { return static_cast<int64_t>(open_.size()); }
  // The member-keyed topics' partition count: new hold ids hash to their member's partition,
  // so that a capture or void naming only the hold reaches the member's owner.
  void set_partitions(int32_t partitions) { partitions_ = partitions; }

 private:
  struct Opened {
    v1::Hold hold;
    LotSlices slices;  // what the hold took from which lot
  };
  StatusOr<Opened> OpenHold(Txn& txn, MemberRecord& member, Points points, DurationMs ttl,
                            const std::string& reference);
  // Spends points of an open hold whose checks passed and gives the rest back.
  v1::Hold Settle(Txn& txn, MemberRecord& member, v1::Hold hold, LotSlices slices, Points points);
  // Gives a hold's points back and ends it as VOIDED or EXPIRED.
  v1::Hold Release(Txn& txn, v1::Hold hold, v1::HoldStatus status);
  // Saves the ended hold and drops its index entry and slices.
  void End(Txn& txn, const v1::Hold& hold);
  LotSlices LoadSlices(const std::string& hold_id) const;

  const Store& store_;
  MemberBook& members_;
  Ledger& ledger_;
  const Clock& clock_;
  std::set<std::pair<int64_t, std::string>> open_;  // (expires_at_ms, hold_id)
  int32_t partitions_ = 0;                          // 0: ids placed anywhere
};

}  // namespace loyalty::accrual
