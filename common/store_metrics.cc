#include "common/store_metrics.h"

namespace loyalty {
namespace {

prometheus::Gauge& MakeGauge(prometheus::Registry& registry, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

}  // namespace

StoreMetrics::StoreMetrics(prometheus::Registry& registry)
    : sst_bytes_(MakeGauge(registry, "rocksdb_sst_files_bytes", "Size of the live SST files")),
      memtable_bytes_(
          MakeGauge(registry, "rocksdb_memtables_bytes", "Size of all memtables in memory")),
      pending_compaction_bytes_(MakeGauge(registry, "rocksdb_pending_compaction_bytes",
                                          "Estimated bytes compaction still has to rewrite")),
      running_compactions_(
          MakeGauge(registry, "rocksdb_running_compactions", "Compactions running now")),
      write_stopped_(MakeGauge(registry, "rocksdb_write_stopped",
                               "1 while RocksDB stops writes (a write stall)")),
      delayed_write_rate_(MakeGauge(registry, "rocksdb_delayed_write_rate_bytes",
                                    "Write rate RocksDB throttles to while slowing writes")),
      background_errors_(prometheus::BuildCounter()
                             .Name("rocksdb_background_errors_total")
                             .Help("Background errors (flush, compaction) since start")
                             .Register(registry)
                             .Add({})),
      estimated_keys_(MakeGauge(registry, "rocksdb_estimated_keys", "Estimated number of keys")),
      block_cache_bytes_(MakeGauge(registry, "rocksdb_block_cache_bytes",
                                   "Memory used by the block cache (data, indexes, filters)")),
      block_cache_capacity_bytes_(MakeGauge(registry, "rocksdb_block_cache_capacity_bytes",
                                            "The block cache's capacity (store.block_cache_mb)")) {}

void StoreMetrics::Update(const Store& store) {
  auto set = [&](prometheus::Gauge& gauge, const char* property) {
    gauge.Set(static_cast<double>(store.GetIntProperty(property)));
  };
  set(sst_bytes_, "rocksdb.live-sst-files-size");
  set(memtable_bytes_, "rocksdb.cur-size-all-mem-tables");
  set(pending_compaction_bytes_, "rocksdb.estimate-pending-compaction-bytes");
  set(running_compactions_, "rocksdb.num-running-compactions");
  set(write_stopped_, "rocksdb.is-write-stopped");
  set(delayed_write_rate_, "rocksdb.actual-delayed-write-rate");
  double errors = static_cast<double>(store.GetIntProperty("rocksdb.background-errors"));
  if (errors > background_errors_.Value())
    background_errors_.Increment(errors - background_errors_.Value());
  set(estimated_keys_, "rocksdb.estimate-num-keys");
  block_cache_bytes_.Set(static_cast<double>(store.block_cache_usage()));
  block_cache_capacity_bytes_.Set(static_cast<double>(store.block_cache_capacity()));
}

}  // namespace loyalty
