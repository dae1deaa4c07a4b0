// Kafka adapter: reads loyalty.events.v1 from the offsets stored in notification's RocksDB
// and hands batches to the core with the decoder (event_decoder.h), which makes the dedupe records,
// the queued notifications and the next offsets durable in one write.
#pragma once

#include <atomic>

#include "common/batch_consumer.h"
#include "common/kafka.h"
#include "services/notification/core/notification_core.h"
#include "services/notification/event_decoder.h"
#include "services/notification/notification_metrics.h"

namespace loyalty::notification {

class EventConsumer {
 public:
  EventConsumer(NotificationCore& core, KafkaConsumer& consumer, NotificationMetrics& metrics,
                BatchOptions options)
      : core_(core), consumer_(consumer), metrics_(metrics), options_(options) {}
  Status Assign() { return consumer_.AssignAll({kEventsTopic}, core_.StoredOffsets()); }
  void Run(const std::atomic<bool>& running) {
    ConsumeAndObserve(
        consumer_, options_, running,
        // Each record is decoded as the core reaches it; returns once durable.
        [&](const auto& batch) { return core_.ApplyBatch(batch, DecodeEvent); },
        [&](const auto& batch, const auto& result, double s) {
          metrics_.ObserveBatch(batch, result, s);
        },
        [&] { return core_.StoredOffsets(); }, [&](const auto& lag) { metrics_.SetLag(lag); });
  }

 private:
  NotificationCore& core_;
  KafkaConsumer& consumer_;
  NotificationMetrics& metrics_;
  BatchOptions options_;
};

}  // namespace loyalty::notification
