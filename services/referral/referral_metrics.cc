#include "services/referral/referral_metrics.h"

#include <set>
#include <string>

namespace loyalty::referral {

ReferralMetrics::ReferralMetrics(prometheus::Registry& registry)
    : referrals_(prometheus::BuildCounter()
                     .Name("referral_referrals_total")
                     .Help("Referral transitions, by outcome: applied, qualified, rewarded, "
                           "reversed, expired, approved")
                     .Register(registry)),
      rejections_(prometheus::BuildCounter()
                      .Name("referral_rejections_total")
                      .Help("Referrals rejected, by rule (self_referral, late_application, cycle, "
                            "referrer_cap, same_store, purchase_refunded, operator)")
                      .Register(registry)),
      holds_(prometheus::BuildCounter()
                 .Name("referral_holds_total")
                 .Help("Referrals held for an operator, by rule")
                 .Register(registry)),
      points_(prometheus::BuildCounter()
                  .Name("referral_points_total")
                  .Help("Bonus points confirmed by accrual, by operation (awarded, reversed) "
                        "and role")
                  .Register(registry)),
      step_failures_(prometheus::BuildCounter()
                         .Name("referral_step_failures_total")
                         .Help("Award or reversal steps accrual refused for good, by step")
                         .Register(registry)),
      steps_retrying_(prometheus::BuildCounter()
                          .Name("referral_step_retries_total")
                          .Help("Award or reversal calls that found accrual unavailable")
                          .Register(registry)
                          .Add({})),
      consumed_(prometheus::BuildCounter()
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
                         .Help("Input messages sent to <topic>.dlq")
                         .Register(registry)
                         .Add({{"topic", "loyalty.events.v1"}, {"reason", "undecodable"}})),
      lag_(prometheus::BuildGauge()
               .Name("kafka_consumer_lag")
               .Help("Messages between the committed position and the end of the partition")
               .Register(registry)),
      pending_work_(prometheus::BuildGauge()
                        .Name("referral_pending_steps")
                        .Help("Referrals with an award or reversal not yet confirmed by accrual")
                        .Register(registry)
                        .Add({})) {}

void ReferralMetrics::Observe(const std::vector<Fact>& facts) {
  for (const auto& f : facts) {
    if (f.kind == "rejected") {
      rejections_.Add({{"reason", f.label}}).Increment();
    } else if (f.kind == "held") {
      holds_.Add({{"reason", f.label}}).Increment();
    } else if (f.kind == "points_awarded") {
      points_.Add({{"operation", "awarded"}, {"role", f.label}})
          .Increment(static_cast<double>(f.value));
    } else if (f.kind == "points_reversed") {
      points_.Add({{"operation", "reversed"}, {"role", f.label}})
          .Increment(static_cast<double>(f.value));
    } else if (f.kind == "step_failed") {
      step_failures_.Add({{"step", f.label}}).Increment();
    } else {
      referrals_.Add({{"outcome", f.kind}}).Increment();
    }
  }
}

void ReferralMetrics::ObserveBatch(const std::vector<KafkaMessage>& batch,
                                   const EventBatchResult& result) {
  std::map<std::string, int64_t> by_topic;
  for (const auto& m : batch) ++by_topic[m.topic];
  for (const auto& [topic, n] : by_topic) {
    consumed_.Add({{"topic", topic}}).Increment(static_cast<double>(n));
  }
  duplicates_.Increment(static_cast<double>(result.duplicates));
  dead_lettered_.Increment(static_cast<double>(result.dead_lettered));
}

void ReferralMetrics::SetLag(const std::map<TopicPartition, int64_t>& lag) {
  for (const auto& [tp, n] : lag) {
    lag_.Add({{"topic", tp.first}, {"partition", std::to_string(tp.second)}})
        .Set(static_cast<double>(n));
  }
}

}  // namespace loyalty::referral
