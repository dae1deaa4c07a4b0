// Records kept for a retention period, then deleted by the runtime's housekeeping thread:
// idempotency records (common/idempotent.h) and the dedupe records of consumed events. Both
// only guard against repeats, which come within minutes or, after an outage, hours; kept
// forever they grow the store without bound.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/key_codec.h"
#include "common/store.h"

namespace loyalty {

// Deletes the records of cf made more than retention_ms before now_ms, by created_at(value).
// Records without a time (created_at gives nullopt: made before records carried one) are
// rewritten by stamp(value, now_ms), so they go a retention period later. The writes are
// unsynced: one lost in a crash only keeps a record longer. Returns how many were deleted.
int64_t SweepByAge(Store& store, std::string_view cf, int64_t now_ms, int64_t retention_ms,
                   const std::function<std::optional<int64_t>(std::string_view value)>& created_at,
                   const std::function<std::string(std::string_view value, int64_t now_ms)>& stamp);

// A consumed event's dedupe record: the time it was first applied.
inline std::string DedupeRecord(int64_t now_ms) { return keys::EncodeI64(now_ms); }

// SweepByAge for dedupe records (an empty value: written before they carried a time).
int64_t SweepDedupeRecords(Store& store, std::string_view cf, int64_t now_ms, int64_t retention_ms);

}  // namespace loyalty
