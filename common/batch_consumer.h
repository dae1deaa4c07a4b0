// The consume loop every service's Kafka adapter shares: poll one message at a time (the
// batch APIs of librdkafka 2.0 are not safe with seeks), gather a batch until it is full or
// a short wait passes, and hand it to the service, which makes the effects and the next
// offsets durable in one write.
#pragma once

#include <atomic>
#include <functional>
#include <vector>

#include "common/kafka.h"

namespace loyalty {

struct BatchOptions {
  size_t max_batch = 2000;  // messages per durable write
  int max_wait_ms = 5;      // how long a partial batch waits for more
};

// Runs until running turns false. apply gets each non-empty batch; every second, on_idle
// gets a chance to report lag.
void ConsumeInBatches(KafkaConsumer& consumer, const BatchOptions& options,
                      const std::atomic<bool>& running,
                      const std::function<void(const std::vector<KafkaMessage>&)>& apply,
                      const std::function<void()>& every_second = nullptr);

}  // namespace loyalty
