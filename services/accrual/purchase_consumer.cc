#include "services/accrual/purchase_consumer.h"

#include <chrono>
#include <map>

namespace loyalty::accrual {

Status PurchaseConsumer::Assign() {
  return consumer_.AssignAll({kPurchasesTopic, kRefundsTopic, kActivitiesTopic},
                             core_.StoredOffsets());
}

void PurchaseConsumer::Run(const std::atomic<bool>& running) {
  // One batch at a time: the next batch is applied only once this one is durable, because
  // the core reads some of its own staged records (parked refunds, activity dedupe) back
  // from the store. Overlapping batches would need those reads to see staged writes too.
  ConsumeInBatches(
      consumer_, options_, running,
      [&](const std::vector<KafkaMessage>& batch) {
        auto start = std::chrono::steady_clock::now();
        std::map<std::string, int64_t> per_topic;
        for (const auto& m : batch) ++per_topic[m.topic];
        BatchResult result = core_.ApplyBatch(batch);
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        metrics_.ObserveBatch(per_topic, result, seconds);
      },
      [&] { metrics_.SetLag(consumer_.Lag(core_.StoredOffsets())); });
}

}  // namespace loyalty::accrual
