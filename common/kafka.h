// Thin wrappers over librdkafka for the services: an idempotent producer with the murmur2
// partitioner (Java and C++ producers agree on a member's partition), and a consumer that
// is assigned whole topics and starts at offsets the service keeps in its own RocksDB, so
// that the offsets are committed in the same write as the effects of the messages. Both take
// the cluster's address and security settings as one KafkaClientSettings.
#pragma once

#include <librdkafka/rdkafkacpp.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/input.h"
#include "common/partitioning.h"
#include "common/status.h"

namespace loyalty {

using KafkaHeaders = std::map<std::string, std::string>;
// librdkafka configuration properties by name ("security.protocol" -> "SASL_SSL").
using KafkaProperties = std::map<std::string, std::string>;

// Where a client connects and how it authenticates: bootstrap.servers, and librdkafka
// properties (security.protocol, sasl.*, ssl.*, the operator's kafka.client_properties) set
// on every producer and consumer after their defaults. KafkaClientSettingsFrom
// (common/kafka_settings.h) builds it from the configuration, checked; {brokers} alone is a
// PLAINTEXT cluster such as the dev broker.
struct KafkaClientSettings {
  std::string brokers;
  KafkaProperties properties = {};
};
// A consumed record as the cores see it (common/input.h): no librdkafka type in it.
using KafkaMessage = InputMessage;

// Whether the broker (or the client, before sending) refused a record for a reason that is
// about the record itself, so that sending it again can never succeed: too large, invalid,
// a timestamp out of the broker's range. Errors about the cluster or the configuration
// (broker down, timeouts, unknown topic, authorization) are not: every later record would
// fail the same way, and they heal once an operator or the cluster fixes the cause.
bool IsPermanentRecordError(RdKafka::ErrorCode code);
// librdkafka's name of the error in lower case ("msg_size_too_large"), for metric labels.
std::string KafkaErrorName(RdKafka::ErrorCode code);
// Whether the client could not authenticate the broker or itself: SASL refused (a wrong user,
// password or mechanism) or the TLS handshake failed (an unknown CA, a name mismatch, a client
// certificate refused). Retrying does not help until an operator fixes the settings.
bool IsSecurityError(RdKafka::ErrorCode code);

// A client's librdkafka events in the service log (common/log.h): its log lines, and its
// errors, a security error (IsSecurityError) as one the operator can act on. Remembers the
// last security error for the code that waits on the cluster (KafkaConsumer::AssignAll).
class KafkaEventLogger : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override;
  // The last security error's message, or "" if there was none.
  std::string last_security_error() const;

 private:
  mutable std::mutex mu_;
  std::string last_security_error_;  // guarded by mu_
};

// The answer for one produced record.
struct DeliveryResult {
  bool delivered = false;
  bool permanent = false;  // refused for good (IsPermanentRecordError)
  std::string reason;      // KafkaErrorName of the error; empty when delivered
  std::string error;       // librdkafka's message
};

class KafkaProducer {
 public:
  using DeliveryCallback = std::function<void(const DeliveryResult& result)>;

  // extra: further librdkafka properties of this producer (e.g. message.timeout.ms), applied
  // after the defaults and the settings' properties.
  static StatusOr<std::unique_ptr<KafkaProducer>> Create(const KafkaClientSettings& settings,
                                                         const KafkaProperties& extra = {});
  ~KafkaProducer();

  // Queues a message; on_delivery runs from Poll or Flush once the broker answered. When the
  // client refuses it at once (say, larger than message.max.bytes) the Status says so, no
  // callback comes, and *refused (if given) tells whether that refusal is permanent.
  Status Produce(const std::string& topic, std::string_view key, std::string_view value,
                 const KafkaHeaders& headers = {}, DeliveryCallback on_delivery = nullptr,
                 DeliveryResult* refused = nullptr);
  void Poll(int timeout_ms);
  // True if every queued message got its answer within the timeout.
  bool Flush(int timeout_ms);
  // The partition count of topic as the brokers report it, asked until wait_ms has passed;
  // INTERNAL naming the topic if no broker told it.
  StatusOr<int32_t> PartitionCount(const std::string& topic, int wait_ms = 30000);

 private:
  KafkaProducer() = default;
  class DeliveryReporter;
  std::unique_ptr<DeliveryReporter> reporter_;
  std::unique_ptr<KafkaEventLogger> events_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

// A partition the consumer stopped because its stored offset is not in the log: below the
// log start (retention deleted records the service never read) or beyond the log end (the
// topic was recreated). librdkafka is told not to reset on its own (auto.offset.reset=error),
// so nothing is skipped silently: the partition stays stopped, the others go on, until an
// operator chooses where to resume (loyaltyctl consumer resume, docs/operations.md).
struct StoppedPartition {
  int64_t stored = 0;      // the offset the consumer asked for
  int64_t log_start = -1;  // the partition's first and next offsets when it stopped (-1:
  int64_t log_end = -1;    // the broker did not answer)
};

class KafkaConsumer {
 public:
  // registry: where kafka_consumer_offset_out_of_range{topic,partition} goes (1 while a
  // partition is stopped); none in tools and tests that do not need it.
  static StatusOr<std::unique_ptr<KafkaConsumer>> Create(const KafkaClientSettings& settings,
                                                         const std::string& group_id,
                                                         prometheus::Registry* registry = nullptr);
  ~KafkaConsumer();

  // From now on AssignAll takes only the partitions this instance owns (default: all).
  void OwnOnly(PartitionOwnership owned) { owned_ = owned; }
  // Assigns every partition of the topics that this instance owns. A partition starts at
  // next_offsets (the stored offset of the next message to read) or, if it has none, at the
  // beginning. Waits up to wait_ms for topics to appear; gives up at once with FailedPrecondition
  // when no broker answers and the client saw a security error (IsSecurityError): a wrong password
  // does not heal by waiting.
  Status AssignAll(const std::vector<std::string>& topics,
                   const std::map<TopicPartition, int64_t>& next_offsets, int wait_ms = 30000);
  // One message, or nothing if none arrived within timeout_ms. A partition whose offset is
  // out of range is stopped here (see StoppedPartition), logged with what it would lose.
  std::optional<KafkaMessage> Poll(int timeout_ms);
  // The partitions stopped since the assignment.
  const std::map<TopicPartition, StoppedPartition>& stopped() const { return stopped_; }
  // The partition's first and next offsets, asked of the broker (blocks up to timeout_ms).
  Status QueryWatermarks(const TopicPartition& tp, int64_t* low, int64_t* high,
                         int timeout_ms = 5000);
  // Messages between the read position and the partition's end, from the consumer's
  // cached watermarks (no broker round trip).
  std::map<TopicPartition, int64_t> Lag(const std::map<TopicPartition, int64_t>& next_offsets);
  const std::vector<TopicPartition>& assignment() const { return assigned_; }
  // The partition count of an assigned topic as Assign found it; 0 for another topic.
  int32_t PartitionCount(const std::string& topic) const {
    auto it = partition_counts_.find(topic);
    return it == partition_counts_.end() ? 0 : it->second;
  }

 private:
  KafkaConsumer() = default;
  void Stop(const TopicPartition& tp, int64_t stored);
  std::unique_ptr<KafkaEventLogger> events_;  // outlives consumer_, which calls it
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::vector<TopicPartition> assigned_;
  std::map<std::string, int32_t> partition_counts_;
  PartitionOwnership owned_;
  std::map<TopicPartition, StoppedPartition> stopped_;
  prometheus::Family<prometheus::Gauge>* out_of_range_ = nullptr;
};

// Where an operator resumes a stopped partition: "earliest" (the log start), "latest" (the
// log end: only records produced from now on) or an offset N within [log start, log end],
// checked against the broker's watermarks. The answer is a concrete offset, to store as the
// partition's next offset while the service is stopped (loyaltyctl consumer resume).
StatusOr<int64_t> ResolveResumeOffset(KafkaConsumer& consumer, const TopicPartition& tp,
                                      std::string_view from);

// Writes offset as the stored next offset of tp in the store at data_dir (column family
// offsets_cf, OffsetKey), with the service stopped: the store is opened read-write, so
// RocksDB's lock refuses while the service runs, and the service reads its offsets only at
// start. *previous gets the offset stored before (-1: none).
Status StoreConsumerOffset(const std::string& data_dir, std::string_view offsets_cf,
                           const TopicPartition& tp, int64_t offset, int64_t* previous);

}  // namespace loyalty
