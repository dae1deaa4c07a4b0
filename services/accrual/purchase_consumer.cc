#include "services/accrual/purchase_consumer.h"

#include <chrono>

namespace loyalty::accrual {

Status PurchaseConsumer::Assign() {
  return consumer_.AssignAll({kPurchasesTopic, kRefundsTopic}, core_.StoredOffsets());
}

void PurchaseConsumer::Run(const std::atomic<bool>& running) {
  using Clock = std::chrono::steady_clock;
  std::vector<KafkaMessage> batch;
  batch.reserve(options_.max_batch);
  auto next_lag_update = Clock::now();
  while (running) {
    batch.clear();
    auto deadline = Clock::now() + std::chrono::milliseconds(options_.max_wait_ms);
    while (batch.size() < options_.max_batch) {
      int wait_ms = 100;
      if (!batch.empty()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        wait_ms = std::max<int>(0, static_cast<int>(left.count()));
      }
      auto message = consumer_.Poll(wait_ms);
      if (message) {
        batch.push_back(std::move(*message));
        continue;
      }
      if (!batch.empty() || !running) break;
    }
    if (!batch.empty()) {
      auto start = Clock::now();
      BatchResult result = core_.ApplyBatch(batch);
      double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      metrics_.ObserveBatch(batch, result, seconds);
    }
    if (Clock::now() >= next_lag_update) {
      metrics_.SetLag(consumer_.Lag(core_.StoredOffsets()));
      next_lag_update = Clock::now() + std::chrono::seconds(1);
    }
  }
}

}  // namespace loyalty::accrual
