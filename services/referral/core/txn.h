// The changes of one referral call or batch: the common unit of work plus the records the
// books keep in memory and write once per transaction (a referral touched twice in a batch
// is written once), and the facts to report once the write is durable.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/unit_of_work.h"

namespace loyalty::referral {

// Something that happened, reported after it is durable (for metrics).
struct Fact {
  // "applied", "rejected", "held", "qualified", "rewarded", "reversed", "expired",
  // "approved", "points_awarded", "points_reversed", "step_failed"
  std::string kind;
  std::string label;  // rule for rejected/held, role for points, step kind for failures
  int64_t value = 1;  // points for points_*
};

struct Txn : UnitOfWork {
  std::set<std::string> dirty_members;    // records stay put in MemberBook
  std::set<std::string> dirty_referrals;  // records stay put in ReferralBook
  std::vector<Fact> facts;
  bool work_added = false;  // a step became pending: wake the award worker

  void Note(std::string kind, std::string label = "", int64_t value = 1) {
    facts.push_back({std::move(kind), std::move(label), value});
  }
};

}  // namespace loyalty::referral
