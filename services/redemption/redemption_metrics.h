// Prometheus metrics of redemption, fed by the core's observer interface after each durable
// change: redemptions by reward kind and outcome, points redeemed and returned, vouchers
// issued and used, checkouts, saga steps retried, and gauges for open checkout holds and
// unfinished sagas.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <functional>
#include <string>

#include "services/redemption/core/redemption_core.h"

namespace loyalty::redemption {

class RedemptionMetrics : public RedemptionObserver {
 public:
  RedemptionMetrics(prometheus::Registry& registry, std::function<void()> on_commit);

  void Committed() override;
  void RedemptionFinished(v1::RewardKind kind, const std::string& outcome, int64_t points) override;
  void VouchersIssued(int64_t count) override;
  void VoucherUsed() override;
  void SagaStepRetried(const std::string& step) override;
  void CheckoutFinished(const std::string& outcome, int64_t points_captured) override;
  void SetGauges(int64_t open_checkouts, int64_t pending_sagas);

 private:
  std::function<void()> on_commit_;
  prometheus::Family<prometheus::Counter>& redemptions_;
  prometheus::Family<prometheus::Counter>& points_;
  prometheus::Counter& vouchers_issued_;
  prometheus::Counter& vouchers_used_;
  prometheus::Family<prometheus::Counter>& retried_;
  prometheus::Family<prometheus::Counter>& checkouts_;
  prometheus::Gauge& open_checkouts_;
  prometheus::Gauge& pending_sagas_;
};

}  // namespace loyalty::redemption
