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
      consumer_(registry),
      pending_work_(prometheus::BuildGauge()
                        .Name("referral_pending_steps")
                        .Help("Referrals with an award or reversal not yet confirmed by accrual")
                        .Register(registry)
                        .Add({})) {
  // Referral dead-letters only undecodable events of loyalty.events.v1.
  consumer_.ExpectDeadLetters(kEventsTopic, "undecodable");
}

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
                                   const EventBatchResult& result, double commit_seconds) {
  ConsumerMetrics::Batch observed{
      ConsumerMetrics::PerTopic(batch), result.duplicates, {}, commit_seconds};
  if (result.dead_lettered > 0) {
    observed.dead_lettered[{kEventsTopic, "undecodable"}] = result.dead_lettered;
  }
  consumer_.ObserveBatch(observed);
}

}  // namespace loyalty::referral
