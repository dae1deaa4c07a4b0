#include "services/notification/core/daily_caps.h"

#include <vector>

#include "common/check.h"
#include "common/clock.h"
#include "common/key_codec.h"

namespace loyalty::notification {
namespace {

std::string DayKey(const std::string& member_id, int64_t day) {
  std::string key;
  keys::AppendString(key, member_id);
  keys::AppendI64(key, day);
  return key;
}

}  // namespace

int64_t SweepOldDayCounts(Store& store, int64_t now_ms) {
  // Any member's local day is within a day of UTC's; older counters are never read again.
  int64_t oldest_kept = now_ms / kDayMs - 2;
  std::vector<std::string> old;
  store.Scan(cf::kDayCounts, "", "", [&](std::string_view key, std::string_view) {
    if (key.size() >= 8 && keys::ReadI64(key, key.size() - 8) < oldest_kept) old.emplace_back(key);
    return true;
  });
  if (!old.empty()) {
    store.WriteUnsynced([&](StagedWrite& w) {
      for (const auto& key : old) w.Delete(cf::kDayCounts, key);
    });
  }
  return static_cast<int64_t>(old.size());
}

int64_t& DailyCaps::Slot(const MemberId& member, int64_t day) {
  auto key = std::make_pair(member.value(), day);
  auto it = counts_.find(key);
  if (it != counts_.end()) return it->second;
  std::string value;
  int64_t count =
      store_.Get(cf::kDayCounts, DayKey(member.value(), day), &value) ? keys::ReadI64(value) : 0;
  return counts_[key] = count;
}

int64_t DailyCaps::Count(const MemberId& member, int64_t day) { return Slot(member, day); }

void DailyCaps::Increment(Txn& txn, const MemberId& member, int64_t day) {
  int64_t& count = Slot(member, day);
  ++count;
  LOYALTY_CHECK(count > 0, member.value() + ": day count " + std::to_string(count));
  txn.Put(cf::kDayCounts, DayKey(member.value(), day), keys::EncodeI64(count), /*visible=*/true);
}

}  // namespace loyalty::notification
