#include "services/accrual/core/timers.h"

#include "common/check.h"
#include "common/key_codec.h"

namespace loyalty::accrual {
namespace {

std::string TimerKey(TimeMs due, TimerKind kind, const std::string& member_id,
                     const std::string& reference) {
  std::string key;
  keys::AppendI64(key, due.value());
  key.push_back(static_cast<char>(kind));
  keys::AppendString(key, member_id);
  keys::AppendString(key, reference);
  return key;
}

}  // namespace

void Timers::Add(Txn& txn, TimeMs due, TimerKind kind, const std::string& member_id,
                 const std::string& reference) const {
  txn.Put(cf::kTimers, TimerKey(due, kind, member_id, reference), "");
}

std::vector<DueTimer> Timers::DueBy(TimeMs now, size_t limit) const {
  std::string upper;
  keys::AppendI64(upper, now.value() + 1);
  std::vector<DueTimer> due;
  store_.Scan(cf::kTimers, "", upper, [&](std::string_view key, std::string_view) {
    DueTimer& timer = due.emplace_back();
    timer.key = std::string(key);
    timer.due = TimeMs(keys::ReadI64(key));
    timer.kind = static_cast<TimerKind>(key[8]);
    size_t pos = 9;
    keys::ReadString(key, pos, timer.member_id);
    keys::ReadString(key, pos, timer.reference);
    return due.size() < limit;
  });
  return due;
}

void Timers::Run(Txn& txn, const DueTimer& timer, MemberRecord* member) const {
  if (member != nullptr) {
    auto handler = handlers_.find(timer.kind);
    LOYALTY_CHECK(handler != handlers_.end(),
                  "no handler for timer kind " + std::to_string(static_cast<int>(timer.kind)));
    handler->second(txn, timer, *member);
  }
  txn.Erase(cf::kTimers, timer.key);
}

}  // namespace loyalty::accrual
