#include "common/retention.h"

#include <utility>
#include <vector>

namespace loyalty {

int64_t SweepByAge(
    Store& store, std::string_view cf, int64_t now_ms, int64_t retention_ms,
    const std::function<std::optional<int64_t>(std::string_view value)>& created_at,
    const std::function<std::string(std::string_view value, int64_t now_ms)>& stamp) {
  constexpr size_t kChunk = 10'000;
  std::vector<std::string> expired;
  std::vector<std::pair<std::string, std::string>> stamped;
  int64_t deleted = 0;
  auto write = [&] {
    if (expired.empty() && stamped.empty()) return;
    store.WriteUnsynced([&](StagedWrite& w) {
      for (const auto& key : expired) w.Delete(cf, key);
      for (const auto& [key, value] : stamped) w.Put(cf, key, value);
    });
    deleted += static_cast<int64_t>(expired.size());
    expired.clear();
    stamped.clear();
  };
  store.Scan(cf, "", "", [&](std::string_view key, std::string_view value) {
    std::optional<int64_t> at = created_at(value);
    if (!at) {
      stamped.emplace_back(std::string(key), stamp(value, now_ms));
    } else if (*at < now_ms - retention_ms) {
      expired.emplace_back(key);
    }
    if (expired.size() + stamped.size() >= kChunk) write();
    return true;
  });
  write();
  return deleted;
}

int64_t SweepDedupeRecords(Store& store, std::string_view cf, int64_t now_ms,
                           int64_t retention_ms) {
  return SweepByAge(
      store, cf, now_ms, retention_ms,
      [](std::string_view value) -> std::optional<int64_t> {
        if (value.size() != 8) return std::nullopt;
        return keys::ReadI64(value);
      },
      [](std::string_view, int64_t now) { return DedupeRecord(now); });
}

}  // namespace loyalty
