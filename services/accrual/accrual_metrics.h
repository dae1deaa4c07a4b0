// Prometheus metrics of accrual: points moved (from durable ledger facts), Kafka input
// (consumed, duplicates, dead letters, lag, batch commit latency), members and open holds.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/consumer_metrics.h"
#include "services/accrual/core/accrual_core.h"

namespace loyalty::accrual {

class AccrualMetrics {
 public:
  explicit AccrualMetrics(prometheus::Registry& registry);

  void Observe(const std::vector<LedgerFacts>& facts);
  void ObserveBatch(const std::map<std::string, int64_t>& messages_per_topic,
                    const BatchResult& result, double commit_seconds);
  void SetLag(const std::map<TopicPartition, int64_t>& lag);
  void SetGauges(int64_t members, int64_t open_holds);

 private:
  prometheus::Counter& Points(const std::string& operation, const std::string& source = "none");

  ConsumerMetrics consumer_;
  prometheus::Family<prometheus::Counter>& points_;
  prometheus::Family<prometheus::Counter>& purchases_;
  prometheus::Family<prometheus::Counter>& member_purchases_;
  prometheus::Family<prometheus::Counter>& spend_;
  prometheus::Counter& refunds_parked_;
  prometheus::Gauge& members_;
  prometheus::Gauge& open_holds_;
  // Orders the updates from the consumer, the gRPC threads and the scheduler, which may add
  // label children to the same families at once.
  std::mutex mu_;
};

}  // namespace loyalty::accrual
