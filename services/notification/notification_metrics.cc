#include "services/notification/notification_metrics.h"

namespace loyalty::notification {

NotificationMetrics::NotificationMetrics(prometheus::Registry& registry)
    : events_(prometheus::BuildCounter()
                  .Name("notification_events_total")
                  .Help("Events read from loyalty.events.v1, by what became of them")
                  .Register(registry)),
      notifications_(prometheus::BuildCounter()
                         .Name("notification_notifications_total")
                         .Help("Notifications by kind, channel and outcome (queued, delivered, "
                               "retry, dead)")
                         .Register(registry)),
      attempt_seconds_(prometheus::BuildHistogram()
                           .Name("notification_attempt_seconds")
                           .Help("Duration of one delivery attempt, by channel")
                           .Register(registry)),
      delivery_seconds_(prometheus::BuildHistogram()
                            .Name("notification_delivery_seconds")
                            .Help("From queued to delivered (quiet hours and retries included)")
                            .Register(registry)),
      retries_(prometheus::BuildCounter()
                   .Name("notification_retries_total")
                   .Help("Attempts that failed transiently and were scheduled again")
                   .Register(registry)),
      dead_letters_(prometheus::BuildCounter()
                        .Name("notification_dead_letters_total")
                        .Help("Notifications given up (permanent failure or last attempt)")
                        .Register(registry)),
      queue_depth_(prometheus::BuildGauge()
                       .Name("notification_queue_depth")
                       .Help("Notifications waiting to be sent (due or not)")
                       .Register(registry)
                       .Add({})),
      breaker_open_(prometheus::BuildGauge()
                        .Name("notification_breaker_open")
                        .Help("1 while the channel's circuit breaker is open or half-open")
                        .Register(registry)),
      consumer_(registry) {
  for (const char* c : kChannels) {
    breaker_open_.Add({{"channel", c}}).Set(0);
    retries_.Add({{"channel", c}});
    dead_letters_.Add({{"channel", c}});
  }
  for (const char* r :
       {"processed", "duplicate", "dead_lettered", "unmapped", "skipped", "digested"}) {
    events_.Add({{"result", r}});
  }
  for (const char* reason : {"undecodable", "invalid"}) {
    consumer_.ExpectDeadLetters(kEventsTopic, reason);
  }
}

void NotificationMetrics::ObserveBatch(const std::vector<InputMessage>& batch, const BatchResult& r,
                                       double commit_seconds) {
  consumer_.ObserveBatch(
      {ConsumerMetrics::PerTopic(batch), r.duplicates, r.dead_letters, commit_seconds});
  int64_t processed = r.events - r.dead_lettered;
  events_.Add({{"result", "processed"}}).Increment(static_cast<double>(processed));
  events_.Add({{"result", "duplicate"}}).Increment(static_cast<double>(r.duplicates));
  events_.Add({{"result", "dead_lettered"}}).Increment(static_cast<double>(r.dead_lettered));
  events_.Add({{"result", "unmapped"}}).Increment(static_cast<double>(r.unmapped));
  events_.Add({{"result", "skipped"}}).Increment(static_cast<double>(r.skipped));
  events_.Add({{"result", "digested"}}).Increment(static_cast<double>(r.digested));
  for (const auto& [key, n] : r.queued) {
    notifications_.Add({{"kind", key.first}, {"channel", key.second}, {"outcome", "queued"}})
        .Increment(static_cast<double>(n));
  }
}

void NotificationMetrics::ObserveAttempt(const AttemptFacts& f) {
  if (!f.found) return;
  notifications_.Add({{"kind", f.kind}, {"channel", f.channel}, {"outcome", f.outcome}})
      .Increment();
  static const prometheus::Histogram::BucketBoundaries kAttempt = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  static const prometheus::Histogram::BucketBoundaries kDelivery = {
      0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 1800, 3600, 6 * 3600, 12 * 3600, 86400};
  attempt_seconds_.Add({{"channel", f.channel}}, kAttempt).Observe(f.latency_ms / 1000.0);
  if (f.outcome == "delivered") {
    delivery_seconds_.Add({{"channel", f.channel}}, kDelivery).Observe(f.end_to_end_ms / 1000.0);
  } else if (f.outcome == "retry") {
    retries_.Add({{"channel", f.channel}}).Increment();
  } else if (f.outcome == "dead") {
    dead_letters_.Add({{"channel", f.channel}}).Increment();
  }
}

void NotificationMetrics::SetQueueDepth(int64_t depth) {
  queue_depth_.Set(static_cast<double>(depth));
}

void NotificationMetrics::SetBreaker(const std::string& channel, bool open) {
  breaker_open_.Add({{"channel", channel}}).Set(open ? 1 : 0);
}

}  // namespace loyalty::notification
