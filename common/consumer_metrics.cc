#include "common/consumer_metrics.h"

namespace loyalty {

ConsumerMetrics::ConsumerMetrics(prometheus::Registry& registry)
    : consumed_(prometheus::BuildCounter()
                    .Name("kafka_messages_consumed_total")
                    .Help("Input messages read and processed, by topic")
                    .Register(registry)),
      duplicates_(prometheus::BuildCounter()
                      .Name("kafka_messages_duplicate_total")
                      .Help("Input messages already applied before, which changed nothing")
                      .Register(registry)
                      .Add({})),
      dead_lettered_(prometheus::BuildCounter()
                         .Name("kafka_messages_dead_lettered_total")
                         .Help("Input messages sent to <topic>.dlq, by topic and reason kind")
                         .Register(registry)),
      lag_(prometheus::BuildGauge()
               .Name("kafka_consumer_lag")
               .Help("Messages between the committed position and the end of the partition")
               .Register(registry)),
      batch_seconds_(prometheus::BuildHistogram()
                         .Name("kafka_batch_commit_seconds")
                         .Help("Time to apply a batch of input messages and sync it to disk")
                         .Register(registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025,
                                                                          0.005, 0.01, 0.025, 0.05,
                                                                          0.1, 0.25, 0.5, 1, 2.5})),
      batch_size_(prometheus::BuildHistogram()
                      .Name("kafka_batch_messages")
                      .Help("Input messages per committed batch")
                      .Register(registry)
                      .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 100, 500, 1000, 2000,
                                                                       5000})) {}

void ConsumerMetrics::ObserveBatch(const Batch& batch) {
  std::lock_guard lock(mu_);
  int64_t messages = 0;
  for (const auto& [topic, n] : batch.per_topic) {
    consumed_.Add({{"topic", topic}}).Increment(static_cast<double>(n));
    messages += n;
  }
  duplicates_.Increment(static_cast<double>(batch.duplicates));
  for (const auto& [key, n] : batch.dead_lettered) {
    dead_lettered_.Add({{"topic", key.first}, {"reason", key.second}})
        .Increment(static_cast<double>(n));
  }
  batch_seconds_.Observe(batch.commit_seconds);
  batch_size_.Observe(static_cast<double>(messages));
}

void ConsumerMetrics::ExpectDeadLetters(const std::string& topic, const std::string& reason) {
  std::lock_guard lock(mu_);
  dead_lettered_.Add({{"topic", topic}, {"reason", reason}});
}

void ConsumerMetrics::SetLag(const std::map<TopicPartition, int64_t>& lag) {
  std::lock_guard lock(mu_);
  for (const auto& [tp, n] : lag) {
    lag_.Add({{"topic", tp.first}, {"partition", std::to_string(tp.second)}})
        .Set(static_cast<double>(n));
  }
}

std::map<std::string, int64_t> ConsumerMetrics::PerTopic(
    const std::vector<InputMessage>& messages) {
  std::map<std::string, int64_t> per_topic;
  for (const auto& m : messages) ++per_topic[m.topic];
  return per_topic;
}

}  // namespace loyalty
