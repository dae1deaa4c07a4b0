#include "services/accrual/purchase_consumer.h"

#include <chrono>

namespace loyalty::accrual {

Status PurchaseConsumer::Assign() {
  return consumer_.AssignAll({kPurchasesTopic, kRefundsTopic, kActivitiesTopic},
                             core_.StoredOffsets());
}

void PurchaseConsumer::Run(const std::atomic<bool>& running) {
  ConsumeInBatches(
      consumer_, options_, running,
      [&](const std::vector<KafkaMessage>& batch) {
        auto start = std::chrono::steady_clock::now();
        BatchResult result = core_.ApplyBatch(batch);
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        metrics_.ObserveBatch(batch, result, seconds);
      },
      [&] { metrics_.SetLag(consumer_.Lag(core_.StoredOffsets())); });
}

}  // namespace loyalty::accrual
