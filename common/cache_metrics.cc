#include "common/cache_metrics.h"

namespace loyalty {
namespace {

prometheus::Counter& Lookups(prometheus::Registry& registry, const std::string& cache,
                             const std::string& result) {
  return prometheus::BuildCounter()
      .Name("record_cache_lookups_total")
      .Help(
          "Records looked up in a bounded cache, by whether they were there (hit) or read "
          "from the store (miss)")
      .Register(registry)
      .Add({{"cache", cache}, {"result", result}});
}

prometheus::Gauge& CacheGauge(prometheus::Registry& registry, const std::string& name,
                              const std::string& help, const std::string& cache) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({{"cache", cache}});
}

}  // namespace

CacheMetrics::CacheMetrics(prometheus::Registry& registry, const std::string& cache)
    : hits_(Lookups(registry, cache, "hit")),
      misses_(Lookups(registry, cache, "miss")),
      evictions_(prometheus::BuildCounter()
                     .Name("record_cache_evictions_total")
                     .Help("Records let go to stay within the cache's budget")
                     .Register(registry)
                     .Add({{"cache", cache}})),
      bytes_(CacheGauge(registry, "record_cache_bytes",
                        "Estimated memory of the records in the cache", cache)),
      entries_(CacheGauge(registry, "record_cache_entries", "Records in the cache", cache)),
      budget_bytes_(CacheGauge(registry, "record_cache_budget_bytes",
                               "The cache's budget (cache.<cache>_mb)", cache)) {}

void CacheMetrics::Update(const RecordCacheStats& stats) {
  std::lock_guard lock(mu_);
  hits_.Increment(static_cast<double>(stats.hits - seen_.hits));
  misses_.Increment(static_cast<double>(stats.misses - seen_.misses));
  evictions_.Increment(static_cast<double>(stats.evictions - seen_.evictions));
  seen_ = stats;
  bytes_.Set(static_cast<double>(stats.bytes));
  entries_.Set(static_cast<double>(stats.entries));
  budget_bytes_.Set(static_cast<double>(stats.max_bytes));
}

}  // namespace loyalty
