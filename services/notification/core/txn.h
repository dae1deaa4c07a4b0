// The changes of one notification call or batch: the common unit of work, the event ids
// applied in it (so that a batch dedupes against itself before anything is durable) and the
// notifications it created, which dispatchers see only once the write is durable.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/unit_of_work.h"
#include "loyalty/v1/notification.pb.h"

namespace loyalty::notification {

struct Txn : UnitOfWork {
  std::set<std::string> seen_events;
  std::vector<v1::Notification> created;
  std::set<std::string> created_ids;  // at most one notification per id in a write
};

}  // namespace loyalty::notification
