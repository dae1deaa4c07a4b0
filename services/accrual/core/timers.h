// Timed work of accrual, kept in the "timers" column family keyed (due, kind, member,
// reference) so that a scan in key order runs what is due, oldest first, and each timer is
// deleted in the same write as its effect. Each module registers the handler of its kinds.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/store.h"
#include "services/accrual/core/txn.h"
#include "services/accrual/core/types.h"

namespace loyalty::accrual {

struct DueTimer {
  std::string key;
  TimeMs due;
  TimerKind kind;
  std::string member_id;
  std::string reference;
};

class Timers {
 public:
  using Handler = std::function<void(Txn&, const DueTimer&, MemberRecord&)>;

  explicit Timers(const Store& store) : store_(store) {}

  void Register(TimerKind kind, Handler handler) { handlers_[kind] = std::move(handler); }
  void Add(Txn& txn, TimeMs due, TimerKind kind, const std::string& member_id,
           const std::string& reference = "") const;
  // The timers due at now, oldest first, at most limit of them.
  std::vector<DueTimer> DueBy(TimeMs now, size_t limit) const;
  // Runs the timer's handler and deletes the timer in the same transaction.
  void Run(Txn& txn, const DueTimer& timer, MemberRecord* member) const;

 private:
  const Store& store_;
  std::map<TimerKind, Handler> handlers_;
};

}  // namespace loyalty::accrual
