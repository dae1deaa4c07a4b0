// The consume loop every service's Kafka adapter shares: poll one message at a time (the
// batch APIs of librdkafka 2.0 are not safe with seeks), gather a batch until it is full or
// a short wait passes, and hand it to the service, which makes the effects and the next
// offsets durable in one write.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <vector>

#include "common/kafka.h"

namespace loyalty {

struct BatchOptions {
  size_t max_batch = 2000;  // messages per durable write
  int max_wait_ms = 5;      // how long a partial batch waits for more
};

// Runs until running turns false. apply gets each non-empty batch; every_second runs about
// once a second, busy or idle (to report lag from the consumer's cached watermarks, which the
// broker's fetch answers keep fresh while idle, so it costs no round trip).
void ConsumeInBatches(KafkaConsumer& consumer, const BatchOptions& options,
                      const std::atomic<bool>& running,
                      const std::function<void(const std::vector<KafkaMessage>&)>& apply,
                      const std::function<void()>& every_second = nullptr);

// ConsumeInBatches for a core that keeps its own offsets: apply(batch) makes a batch durable
// and returns what it did, observe(batch, result, seconds) reports that with the time it
// took, and every second set_lag gets the lag behind the core's stored_offsets().
template <typename Apply, typename Observe, typename StoredOffsets, typename SetLag>
void ConsumeAndObserve(KafkaConsumer& consumer, const BatchOptions& options,
                       const std::atomic<bool>& running, Apply apply, Observe observe,
                       StoredOffsets stored_offsets, SetLag set_lag) {
  ConsumeInBatches(
      consumer, options, running,
      [&](const std::vector<KafkaMessage>& batch) {
        auto start = std::chrono::steady_clock::now();
        auto result = apply(batch);
        std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
        observe(batch, result, seconds.count());
      },
      [&] { set_lag(consumer.Lag(stored_offsets())); });
}

}  // namespace loyalty
