// Prometheus metrics of referral: outcomes of referrals, rejections and holds by rule, points
// paid and taken back, failed steps, the input consumer and the pending work.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <vector>

#include "common/consumer_metrics.h"
#include "common/kafka.h"
#include "services/referral/core/referral_core.h"

namespace loyalty::referral {

class ReferralMetrics {
 public:
  explicit ReferralMetrics(prometheus::Registry& registry);

  void Observe(const std::vector<Fact>& facts);
  // commit_seconds: applying the batch and syncing it to disk.
  void ObserveBatch(const std::vector<KafkaMessage>& batch, const EventBatchResult& result,
                    double commit_seconds);
  void SetLag(const std::map<TopicPartition, int64_t>& lag) { consumer_.SetLag(lag); }
  void SetPendingWork(size_t pending) { pending_work_.Set(static_cast<double>(pending)); }
  void StepsRetrying(int n) { steps_retrying_.Increment(n); }

 private:
  prometheus::Family<prometheus::Counter>& referrals_;
  prometheus::Family<prometheus::Counter>& rejections_;
  prometheus::Family<prometheus::Counter>& holds_;
  prometheus::Family<prometheus::Counter>& points_;
  prometheus::Family<prometheus::Counter>& step_failures_;
  prometheus::Counter& steps_retrying_;
  ConsumerMetrics consumer_;
  prometheus::Gauge& pending_work_;
};

}  // namespace loyalty::referral
