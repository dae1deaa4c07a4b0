// RocksDB health as Prometheus gauges: size on disk, memtables, block cache, compaction
// backlog, write stalls and background errors, read from the store's properties every few seconds.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/store.h"

namespace loyalty {

class StoreMetrics {
 public:
  explicit StoreMetrics(prometheus::Registry& registry);
  void Update(const Store& store);

 private:
  prometheus::Gauge& sst_bytes_;
  prometheus::Gauge& memtable_bytes_;
  prometheus::Gauge& pending_compaction_bytes_;
  prometheus::Gauge& running_compactions_;
  prometheus::Gauge& write_stopped_;
  prometheus::Gauge& delayed_write_rate_;
  prometheus::Counter& background_errors_;  // follows RocksDB's cumulative count
  prometheus::Gauge& estimated_keys_;
  prometheus::Gauge& block_cache_bytes_;
  prometheus::Gauge& block_cache_capacity_bytes_;
};

}  // namespace loyalty
