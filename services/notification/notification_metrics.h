// Prometheus metrics of the notification service: notifications by kind, channel and
// outcome; attempt and end-to-end delivery latency; retries; dead letters; queue depth;
// breaker state; and what the event consumer did with each event.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "services/notification/core/notification_core.h"

namespace loyalty::notification {

class NotificationMetrics {
 public:
  explicit NotificationMetrics(prometheus::Registry& registry);
  void ObserveBatch(const BatchResult& result);
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
};

}  // namespace loyalty::notification
