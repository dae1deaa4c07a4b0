#include "common/cache_config.h"

#include <exception>

namespace loyalty {

ConfigKey CacheKey(const std::string& path, int64_t default_mb, const std::string& records) {
  return IntKey(path, default_mb,
                "MiB of " + records +
                    " kept in memory; the least recently used are read from the store again");
}

StatusOr<int64_t> CacheBytes(const Config& config, const std::string& path) {
  int64_t mb = 0;
  try {
    mb = config.GetInt(path);
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
  if (mb < 1 || mb > kMaxCacheMb) {
    return InvalidArgument(path + ": must be in 1.." + std::to_string(kMaxCacheMb) + " (MiB)");
  }
  return mb << 20;
}

}  // namespace loyalty
