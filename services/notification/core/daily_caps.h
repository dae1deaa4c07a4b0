// Daily caps: how many non-transactional notifications each member got on their local day.
// The counters live in the store, written visibly (a later transaction reads what an earlier
// staged one wrote); only those of the transaction being built are kept in memory. A
// retention sweep deletes the stored ones of days over.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "common/store.h"
#include "services/notification/core/txn.h"
#include "services/notification/core/types.h"

namespace loyalty::notification {

// Deletes the daily-cap counters of days over; returns how many (a retention sweep).
int64_t SweepOldDayCounts(Store& store, int64_t now_ms);

class DailyCaps {
 public:
  explicit DailyCaps(const Store& store) : store_(store) {}

  // What member was sent on local day `day` so far.
  int64_t Count(const MemberId& member, int64_t day);
  // One more on that day, written in txn.
  void Increment(Txn& txn, const MemberId& member, int64_t day);
  // The transaction was staged: its counters are read from the store from now on.
  void Staged() { counts_.clear(); }

 private:
  int64_t& Slot(const MemberId& member, int64_t day);

  const Store& store_;
  // (member, day) -> sent, of the transaction being built
  std::map<std::pair<std::string, int64_t>, int64_t> counts_;
};

}  // namespace loyalty::notification
