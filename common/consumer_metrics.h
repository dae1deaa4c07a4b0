// Prometheus metrics of a service's Kafka input, defined once so that every service that
// consumes (accrual, referral, notification) exports the same families with the same labels:
//   kafka_messages_consumed_total{topic}, kafka_messages_duplicate_total,
//   kafka_messages_dead_lettered_total{topic, reason}, kafka_consumer_lag{topic, partition},
//   kafka_batch_commit_seconds, kafka_batch_messages.
// deploy/prometheus/rules/loyalty-common.yml and the dashboards' Kafka rows read them.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/input.h"

namespace loyalty {

class ConsumerMetrics {
 public:
  explicit ConsumerMetrics(prometheus::Registry& registry);

  // One committed batch, as the service's core reports it.
  struct Batch {
    std::map<std::string, int64_t> per_topic;  // messages read
    int64_t duplicates = 0;                    // already applied before: changed nothing
    // Sent to <topic>.dlq, by (topic, reason kind: undecodable, invalid, ...).
    std::map<std::pair<std::string, std::string>, int64_t> dead_lettered;
    double commit_seconds = 0;  // applying the batch and syncing it to disk
  };
  void ObserveBatch(const Batch& batch);
  // Creates a dead-letter series at 0, so that it exists before the first dead letter.
  void ExpectDeadLetters(const std::string& topic, const std::string& reason);
  void SetLag(const std::map<TopicPartition, int64_t>& lag);

  // Messages of a batch per topic, for Batch::per_topic.
  static std::map<std::string, int64_t> PerTopic(const std::vector<InputMessage>& messages);

 private:
  prometheus::Family<prometheus::Counter>& consumed_;
  prometheus::Counter& duplicates_;
  prometheus::Family<prometheus::Counter>& dead_lettered_;
  prometheus::Family<prometheus::Gauge>& lag_;
  prometheus::Histogram& batch_seconds_;
  prometheus::Histogram& batch_size_;
  std::mutex mu_;
};

}  // namespace loyalty
