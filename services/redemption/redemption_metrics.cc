#include "services/redemption/redemption_metrics.h"

#include "services/redemption/core/catalog.h"

namespace loyalty::redemption {
RedemptionMetrics::RedemptionMetrics(prometheus::Registry& registry,
                                     std::function<void()> on_commit)
    : on_commit_(std::move(on_commit)),
      redemptions_(prometheus::BuildCounter()
                       .Name("redemption_redemptions_total")
                       .Help("Redemptions finished, by reward kind and outcome (completed, "
                             "failed, cancelled, won)")
                       .Register(registry)),
      points_(prometheus::BuildCounter()
                  .Name("redemption_points_total")
                  .Help("Points spent on rewards (redeemed), given back by cancellations "
                        "(returned) and spent at checkout (checkout)")
                  .Register(registry)),
      vouchers_issued_(prometheus::BuildCounter()
                           .Name("redemption_vouchers_issued_total")
                           .Help("Voucher codes issued")
                           .Register(registry)
                           .Add({})),
      vouchers_used_(prometheus::BuildCounter()
                         .Name("redemption_vouchers_used_total")
                         .Help("Vouchers used at a till")
                         .Register(registry)
                         .Add({})),
      retried_(prometheus::BuildCounter()
                   .Name("redemption_saga_steps_retried_total")
                   .Help("Saga steps repeated because accrual's answer was unknown, and resumes")
                   .Register(registry)),
      checkouts_(prometheus::BuildCounter()
                     .Name("redemption_checkouts_total")
                     .Help("Checkouts with points finished, by outcome")
                     .Register(registry)),
      open_checkouts_(prometheus::BuildGauge()
                          .Name("redemption_checkout_holds_open")
                          .Help("Checkouts holding points, not yet completed, cancelled or "
                                "expired")
                          .Register(registry)
                          .Add({})),
      pending_sagas_(prometheus::BuildGauge()
                         .Name("redemption_sagas_pending")
                         .Help("Redemptions, cancellations and checkouts not yet finished")
                         .Register(registry)
                         .Add({})) {
  for (const char* outcome : {"completed", "failed", "cancelled", "won"}) {
    for (auto kind : {v1::REWARD_KIND_DISCOUNT, v1::REWARD_KIND_GIFT_CARD,
                      v1::REWARD_KIND_FREE_PRODUCT, v1::REWARD_KIND_DONATION}) {
      redemptions_.Add({{"kind", KindName(kind)}, {"outcome", outcome}});
    }
  }
  for (const char* op : {"redeemed", "returned", "checkout"}) points_.Add({{"operation", op}});
}

void RedemptionMetrics::Committed() {
  if (on_commit_) on_commit_();
}

void RedemptionMetrics::RedemptionFinished(v1::RewardKind kind, const std::string& outcome,
                                           int64_t points) {
  redemptions_.Add({{"kind", KindName(kind)}, {"outcome", outcome}}).Increment();
  if (outcome == "completed") {
    points_.Add({{"operation", "redeemed"}}).Increment(static_cast<double>(points));
  } else if (outcome == "cancelled") {
    points_.Add({{"operation", "returned"}}).Increment(static_cast<double>(points));
  }
}

void RedemptionMetrics::VouchersIssued(int64_t count) {
  vouchers_issued_.Increment(static_cast<double>(count));
}

void RedemptionMetrics::VoucherUsed() { vouchers_used_.Increment(); }

void RedemptionMetrics::SagaStepRetried(const std::string& step) {
  retried_.Add({{"step", step}}).Increment();
}

void RedemptionMetrics::CheckoutFinished(const std::string& outcome, int64_t points_captured) {
  checkouts_.Add({{"outcome", outcome}}).Increment();
  if (points_captured > 0) {
    points_.Add({{"operation", "checkout"}}).Increment(static_cast<double>(points_captured));
  }
}

void RedemptionMetrics::SetGauges(int64_t open_checkouts, int64_t pending_sagas) {
  open_checkouts_.Set(static_cast<double>(open_checkouts));
  pending_sagas_.Set(static_cast<double>(pending_sagas));
}

}  // namespace loyalty::redemption
