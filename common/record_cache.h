// A bounded cache of protobuf records that live in the store: a core reads a record on first
// use and keeps it while it fits, least recently used leaving first, within a budget of
// estimated bytes in memory. Two rules keep it exact:
// - A record leaves only once its last staged write is durable: Store::Get reads durable
//   groups only, so a record evicted earlier would be read back without that write.
// - Records leave only in Trim, which the owner calls where it holds no pointer into the
//   cache (after staging a transaction, or before a read): Find and Insert never evict.
// Not thread-safe: the owner's lock guards it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/check.h"
#include "common/store.h"

namespace loyalty {

struct RecordCacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t evictions = 0;
  int64_t bytes = 0;
  int64_t entries = 0;
  int64_t max_bytes = 0;
};

template <typename Record>
class RecordCache {
 public:
  using Stats = RecordCacheStats;

  explicit RecordCache(int64_t max_bytes) { stats_.max_bytes = max_bytes; }

  // The cached record of key (now the most recently used), or nullptr: a miss, which the
  // owner answers from the store.
  Record* Find(const std::string& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      ++stats_.misses;
      return nullptr;
    }
    ++stats_.hits;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return &it->second.record;
  }

  // The cached record of key without counting a use (to write it out), or nullptr.
  const Record* Peek(const std::string& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second.record;
  }

  // Adds a record read from the store, or a new one (replacing none: key must be absent).
  Record& Insert(const std::string& key, Record record, int64_t serialized_bytes) {
    auto [it, inserted] = entries_.try_emplace(key);
    LOYALTY_CHECK(inserted, "record cache: " + key + " inserted twice");
    Entry& entry = it->second;
    entry.record = std::move(record);
    lru_.push_front(&it->first);
    entry.lru = lru_.begin();
    Measure(it->first, entry, serialized_bytes);
    ++stats_.entries;
    return entry.record;
  }

  // Sets the record of key, cached or not (a record replaced as a whole).
  Record& Put(const std::string& key, Record record, int64_t serialized_bytes) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return Insert(key, std::move(record), serialized_bytes);
    it->second.record = std::move(record);
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    Measure(it->first, it->second, serialized_bytes);
    return it->second.record;
  }

  // Forgets the record of key, if cached (it was deleted from the store in a visible write,
  // or is read back unchanged).
  void Erase(const std::string& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    stats_.bytes -= it->second.bytes;
    lru_.erase(it->second.lru);
    entries_.erase(it);
    --stats_.entries;
  }

  // The record of key, just serialized (its cached size is current), was staged in the write
  // group of ticket: it stays until that group is durable. Its memory is measured again when
  // its serialized size moved by more than a quarter since the last measure.
  void Written(const std::string& key, uint64_t ticket) {
    auto it = entries_.find(key);
    LOYALTY_CHECK(it != entries_.end(), "record cache: " + key + " written but not cached");
    Entry& entry = it->second;
    entry.ticket = ticket;
    int64_t serialized = entry.record.GetCachedSize();
    int64_t drift = serialized - entry.measured_serialized;
    if (4 * std::abs(drift) > entry.measured_serialized) Measure(it->first, entry, serialized);
  }

  // Evicts least recently used records while over budget, stopping at the first whose last
  // write is not durable yet (durable: the newest durable ticket). Records behind it were
  // used more recently; the overshoot is at most what one write group holds.
  void Trim(uint64_t durable) {
    while (stats_.bytes > stats_.max_bytes && !lru_.empty()) {
      const std::string* key = lru_.back();
      auto it = entries_.find(*key);
      if (it->second.ticket > durable) break;
      stats_.bytes -= it->second.bytes;
      lru_.pop_back();
      entries_.erase(it);
      --stats_.entries;
      ++stats_.evictions;
    }
  }

  const Stats& stats() const { return stats_; }

 private:
  struct Entry {
    Record record;
    int64_t bytes = 0;
    uint64_t ticket = 0;              // the write group of the last staged change; 0: never written
    int64_t measured_serialized = 0;  // the serialized size when bytes was measured
    std::list<const std::string*>::iterator lru;
  };

  // The record's heap use estimated from its wire size: a parsed protobuf takes a few times
  // that (an object per nested message, string and array headers, allocator rounding), plus
  // the key, the hash node and the list node around it. Not protobuf's SpaceUsedLong: its
  // reflection cost 3% of accrual's CPU at 10M members, and over map fields it crashed
  // under ThreadSanitizer.
  void Measure(const std::string& key, Entry& entry, int64_t serialized) {
    entry.measured_serialized = serialized;
    int64_t bytes = static_cast<int64_t>(sizeof(Entry) + sizeof(std::string) + key.capacity()) +
                    kWireFactor * serialized + kNestedOverhead + kNodeOverhead;
    stats_.bytes += bytes - entry.bytes;
    entry.bytes = bytes;
  }
  static constexpr int64_t kWireFactor = 4;
  static constexpr int64_t kNestedOverhead = 256;  // a few nested messages' objects
  static constexpr int64_t kNodeOverhead = 64;

  std::unordered_map<std::string, Entry> entries_;
  std::list<const std::string*> lru_;  // most recent first; keys live in entries_' nodes
  Stats stats_;
};

// Reads the records of those keys that are not cached from the store's column family cf in
// one MultiGet and caches those found: a batch's records before it is applied. Returns the
// keys the store has no record of (as of now). Reading the durable store is right because a
// record with a write not yet durable is never evicted.
template <typename Record>
std::vector<std::string> PrefetchRecords(RecordCache<Record>& cache, const Store& store,
                                         std::string_view cf,
                                         const std::vector<std::string>& keys) {
  std::vector<std::string> missing;
  for (const auto& key : keys) {
    if (!key.empty() && cache.Peek(key) == nullptr) missing.push_back(key);
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  std::vector<std::string> absent;
  if (missing.empty()) return absent;
  std::vector<std::optional<std::string>> values = store.MultiGet(cf, missing);
  for (size_t i = 0; i < missing.size(); ++i) {
    Record record;
    if (!values[i]) {
      absent.push_back(std::move(missing[i]));
    } else if (record.ParseFromString(*values[i])) {
      cache.Insert(missing[i], std::move(record), static_cast<int64_t>(values[i]->size()));
    }
  }
  return absent;
}

}  // namespace loyalty
