// Thin wrappers over librdkafka for the services: an idempotent producer with the murmur2
// partitioner (Java and C++ producers agree on a member's partition), and a consumer that
// is assigned whole topics and starts at offsets the service keeps in its own RocksDB, so
// that the offsets are committed in the same write as the effects of the messages.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/input.h"
#include "common/status.h"

namespace loyalty {

using KafkaHeaders = std::map<std::string, std::string>;
// A consumed record as the cores see it (common/input.h): no librdkafka type in it.
using KafkaMessage = InputMessage;

// Whether a failed send is worth retrying (broker down, timeouts) or never will succeed
// (message too large, unknown topic after metadata refresh, authorization).
bool IsRetriableKafkaError(RdKafka::ErrorCode code);

class KafkaProducer {
 public:
  using DeliveryCallback = std::function<void(bool delivered, const std::string& error)>;

  // extra: further librdkafka properties (e.g. linger.ms), applied after the defaults.
  static StatusOr<std::unique_ptr<KafkaProducer>> Create(const std::string& brokers,
                                                         const KafkaHeaders& extra = {});
  ~KafkaProducer();

  // Queues a message; on_delivery runs from Poll or Flush once the broker answered.
  Status Produce(const std::string& topic, std::string_view key, std::string_view value,
                 const KafkaHeaders& headers = {}, DeliveryCallback on_delivery = nullptr);
  void Poll(int timeout_ms);
  // True if every queued message got its answer within the timeout.
  bool Flush(int timeout_ms);

 private:
  KafkaProducer() = default;
  class DeliveryReporter;
  std::unique_ptr<DeliveryReporter> reporter_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

class KafkaConsumer {
 public:
  static StatusOr<std::unique_ptr<KafkaConsumer>> Create(const std::string& brokers,
                                                         const std::string& group_id);
  ~KafkaConsumer();

  // Assigns every partition of the topics. A partition starts at next_offsets (the stored
  // offset of the next message to read) or, if it has none, at the beginning. Waits up to
  // wait_ms for topics to appear.
  Status AssignAll(const std::vector<std::string>& topics,
                   const std::map<TopicPartition, int64_t>& next_offsets, int wait_ms = 30000);
  // One message, or nothing if none arrived within timeout_ms.
  std::optional<KafkaMessage> Poll(int timeout_ms);
  // Messages between the read position and the partition's end, from the consumer's
  // cached watermarks (no broker round trip).
  std::map<TopicPartition, int64_t> Lag(const std::map<TopicPartition, int64_t>& next_offsets);
  const std::vector<TopicPartition>& assignment() const { return assigned_; }

 private:
  KafkaConsumer() = default;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::vector<TopicPartition> assigned_;
};

}  // namespace loyalty
