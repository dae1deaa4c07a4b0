// The budgets of the services' record caches (common/record_cache.h) in their configuration:
// one key per cache, "cache.<records>_mb", in MiB.
#pragma once

#include <cstdint>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace loyalty {

inline constexpr int64_t kMaxCacheMb = int64_t{1} << 20;  // 1 TiB: more is a typo

ConfigKey CacheKey(const std::string& path, int64_t default_mb, const std::string& records);
// The budget in bytes; INVALID_ARGUMENT naming the key unless it is 1..kMaxCacheMb MiB.
StatusOr<int64_t> CacheBytes(const Config& config, const std::string& path);

}  // namespace loyalty
