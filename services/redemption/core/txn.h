// The changes of one redemption step: the common unit of work plus the cached records it
// touched (written once each by the core's Stage).
#pragma once

#include <set>
#include <string>

#include "common/unit_of_work.h"

namespace loyalty::redemption {

struct Txn : UnitOfWork {
  std::set<std::string> dirty_members;
  std::set<std::string> dirty_rewards;
};

}  // namespace loyalty::redemption
