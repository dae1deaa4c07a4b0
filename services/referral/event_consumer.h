// Kafka adapter of referral: reads loyalty.events.v1 from the offsets stored in referral's
// RocksDB and hands batches to the core with the decoder (event_decoder.h); the core makes
// their effects and the next offsets durable in one write.
#pragma once

#include <atomic>

#include "common/batch_consumer.h"
#include "common/kafka.h"
#include "services/referral/core/referral_core.h"
#include "services/referral/event_decoder.h"
#include "services/referral/referral_metrics.h"

namespace loyalty::referral {

class EventConsumer {
 public:
  EventConsumer(ReferralCore& core, KafkaConsumer& consumer, ReferralMetrics& metrics,
                BatchOptions options)
      : core_(core), consumer_(consumer), metrics_(metrics), options_(options) {}

  Status Assign() { return consumer_.AssignAll({kEventsTopic}, core_.StoredOffsets()); }
  void Run(const std::atomic<bool>& running) {
    ConsumeAndObserve(
        consumer_, options_, running,
        // Each record is decoded as the core reaches it; returns once durable.
        [&](const auto& batch) { return core_.ApplyEvents(batch, DecodeEvent); },
        [&](const auto& batch, const auto& result, double s) {
          metrics_.ObserveBatch(batch, result, s);
        },
        [&] { return core_.StoredOffsets(); }, [&](const auto& lag) { metrics_.SetLag(lag); });
  }

 private:
  ReferralCore& core_;
  KafkaConsumer& consumer_;
  ReferralMetrics& metrics_;
  BatchOptions options_;
};

}  // namespace loyalty::referral
