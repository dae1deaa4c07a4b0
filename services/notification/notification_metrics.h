// Prometheus metrics of the notification service: notifications by kind, channel and
// outcome; attempt and end-to-end delivery latency; retries; dead letters; queue depth;
// breaker state; what the event consumer did with each event; and the kafka_* input metrics
// every consumer exports (common/consumer_metrics.h).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <string>
#include <vector>

#include "common/consumer_metrics.h"
#include "common/input.h"
#include "services/notification/core/notification_core.h"

namespace loyalty::notification {

class NotificationMetrics {
 public:
  explicit NotificationMetrics(prometheus::Registry& registry);
  // commit_seconds: applying the batch and syncing it to disk.
  void ObserveBatch(const std::vector<InputMessage>& batch, const BatchResult& result,
                    double commit_seconds);
  void SetLag(const std::map<TopicPartition, int64_t>& lag) { consumer_.SetLag(lag); }
  void ObserveAttempt(const AttemptFacts& facts);
  void SetQueueDepth(int64_t depth);
  void SetBreaker(const std::string& channel, bool open);

 private:
  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Family<prometheus::Counter>& notifications_;
  prometheus::Family<prometheus::Histogram>& attempt_seconds_;
  prometheus::Family<prometheus::Histogram>& delivery_seconds_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& dead_letters_;
  prometheus::Gauge& queue_depth_;
  prometheus::Family<prometheus::Gauge>& breaker_open_;
  ConsumerMetrics consumer_;
};

}  // namespace loyalty::notification
