// Daily caps: how many non-transactional notifications each member got on their local day.
// Only today's and yesterday's counters are kept in memory; a retention sweep deletes the
// stored ones of days over.
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

 private:
  int64_t& Slot(const MemberId& member, int64_t day);

  const Store& store_;
  std::map<std::pair<std::string, int64_t>, int64_t> counts_;  // (member, day) -> sent
};

}  // namespace loyalty::notification
