#include "common/batch_consumer.h"

#include <algorithm>
#include <chrono>

namespace loyalty {

void ConsumeInBatches(KafkaConsumer& consumer, const BatchOptions& options,
                      const std::atomic<bool>& running,
                      const std::function<void(const std::vector<KafkaMessage>&)>& apply,
                      const std::function<void()>& every_second) {
  using Clock = std::chrono::steady_clock;
  std::vector<KafkaMessage> batch;
  batch.reserve(options.max_batch);
  auto next_tick = Clock::now();
  while (running) {
    batch.clear();
    auto deadline = Clock::now() + std::chrono::milliseconds(options.max_wait_ms);
    while (batch.size() < options.max_batch) {
      int wait_ms = 100;
      if (!batch.empty()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        wait_ms = std::max<int>(0, static_cast<int>(left.count()));
      }
      auto message = consumer.Poll(wait_ms);
      if (message) {
        batch.push_back(std::move(*message));
        continue;
      }
      // An idle consumer still reports its lag once a second: after a restart with a
      // backlog the gauge must come down to 0 once everything is read, not stay at the
      // value of the last non-empty batch.
      if (!batch.empty() || !running || (every_second && Clock::now() >= next_tick)) break;
    }
    if (!batch.empty()) apply(batch);
    if (every_second && Clock::now() >= next_tick) {
      every_second();
      next_tick = Clock::now() + std::chrono::seconds(1);
    }
  }
}

}  // namespace loyalty
