// Kafka adapter: reads loyalty.events.v1 from the offsets stored in notification's RocksDB
// and hands batches to the core, which makes the dedupe records, the queued notifications
// and the next offsets durable in one write.
#pragma once

#include <atomic>

#include "common/batch_consumer.h"
#include "common/kafka.h"
#include "services/notification/core/notification_core.h"
#include "services/notification/notification_metrics.h"

namespace loyalty::notification {

class EventConsumer {
 public:
  EventConsumer(NotificationCore& core, KafkaConsumer& consumer, NotificationMetrics& metrics,
                BatchOptions options)
      : core_(core), consumer_(consumer), metrics_(metrics), options_(options) {}
  Status Assign() { return consumer_.AssignAll({kEventsTopic}, core_.StoredOffsets()); }
  void Run(const std::atomic<bool>& running) {
    ConsumeInBatches(consumer_, options_, running, [&](const std::vector<KafkaMessage>& batch) {
      metrics_.ObserveBatch(core_.ApplyBatch(batch));
    });
  }

 private:
  NotificationCore& core_;
  KafkaConsumer& consumer_;
  NotificationMetrics& metrics_;
  BatchOptions options_;
};

}  // namespace loyalty::notification
