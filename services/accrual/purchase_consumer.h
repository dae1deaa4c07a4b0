// Kafka adapter of accrual: reads loyalty.purchases.v1, .refunds.v1 and .activities.v1 from the
// offsets stored in accrual's RocksDB and hands batches to the core, which makes their
// effects and the next offsets durable in one write.
#pragma once

#include <atomic>

#include "common/batch_consumer.h"
#include "common/kafka.h"
#include "services/accrual/accrual_metrics.h"
#include "services/accrual/core/accrual_core.h"

namespace loyalty::accrual {

class PurchaseConsumer {
 public:
  PurchaseConsumer(AccrualCore& core, KafkaConsumer& consumer, AccrualMetrics& metrics,
                   BatchOptions options)
      : core_(core), consumer_(consumer), metrics_(metrics), options_(options) {}

  // Assigns the input topics; fails if they do not appear in time.
  Status Assign();
  // Consumes until running turns false.
  void Run(const std::atomic<bool>& running);

 private:
  AccrualCore& core_;
  KafkaConsumer& consumer_;
  AccrualMetrics& metrics_;
  BatchOptions options_;
};

}  // namespace loyalty::accrual
