// A record cache (common/record_cache.h) as Prometheus metrics, the same names in every
// service, labelled by cache: record_cache_lookups_total{cache,result},
// record_cache_evictions_total, record_cache_bytes, record_cache_entries and
// record_cache_budget_bytes. The owner copies the cache's stats in from time to time (the
// cache itself is guarded by the core's lock).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <mutex>
#include <string>

#include "common/record_cache.h"

namespace loyalty {

class CacheMetrics {
 public:
  // cache: the label, "members" for the records under cache.members_mb.
  CacheMetrics(prometheus::Registry& registry, const std::string& cache);
  void Update(const RecordCacheStats& stats);

 private:
  prometheus::Counter& hits_;
  prometheus::Counter& misses_;
  prometheus::Counter& evictions_;
  prometheus::Gauge& bytes_;
  prometheus::Gauge& entries_;
  prometheus::Gauge& budget_bytes_;
  std::mutex mu_;
  RecordCacheStats seen_;  // counted so far, to add only what is new; guarded by mu_
};

}  // namespace loyalty
