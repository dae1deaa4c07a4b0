#include "services/accrual/accrual_metrics.h"

namespace loyalty::accrual {
namespace {

// Award sources become label values only from this list, so labels stay bounded.
std::string SourceLabel(const std::string& source) {
  static const std::set<std::string> known = {"welcome",  "referral", "goodwill", "redemption",
                                              "activity", "campaign", "draw",     "milestone"};
  return known.count(source) ? source : "other";
}

}  // namespace

AccrualMetrics::AccrualMetrics(prometheus::Registry& registry)
    : consumer_(registry),
      points_(prometheus::BuildCounter()
                  .Name("accrual_points_total")
                  .Help("Points moved, by operation: earned, clawed_back, awarded, adjusted_up, "
                        "adjusted_down, held, captured, voided, hold_expired")
                  .Register(registry)),
      purchases_(prometheus::BuildCounter()
                     .Name("accrual_purchases_total")
                     .Help("Purchases applied, by whether the buyer is a member")
                     .Register(registry)),
      member_purchases_(prometheus::BuildCounter()
                            .Name("accrual_member_purchases_total")
                            .Help("Members' purchases: a member's first, or a repeat purchase")
                            .Register(registry)),
      spend_(prometheus::BuildCounter()
                 .Name("accrual_purchase_amount_minor_total")
                 .Help("Amount of purchases applied, in minor units of the program currency, "
                       "by whether the buyer is a member")
                 .Register(registry)),
      refunds_parked_(prometheus::BuildCounter()
                          .Name("accrual_refunds_parked_total")
                          .Help("Refunds that arrived before their purchase and waited for it")
                          .Register(registry)
                          .Add({})),
      members_(prometheus::BuildGauge()
                   .Name("accrual_members")
                   .Help("Members enrolled (erased members included)")
                   .Register(registry)
                   .Add({})),
      open_holds_(prometheus::BuildGauge()
                      .Name("accrual_holds_open")
                      .Help("Holds neither captured, voided nor expired")
                      .Register(registry)
                      .Add({})) {}

prometheus::Counter& AccrualMetrics::Points(const std::string& operation,
                                            const std::string& source) {
  return points_.Add({{"operation", operation}, {"source", source}});
}

void AccrualMetrics::Observe(const std::vector<LedgerFacts>& facts) {
  std::lock_guard lock(mu_);
  for (const auto& f : facts) {
    double points = static_cast<double>(f.points);
    switch (f.kind) {
      case v1::LEDGER_KIND_EARN:
        // Partners come from configuration, so the label stays bounded.
        Points("earned", f.source.empty() ? "purchase" : "partner:" + f.source).Increment(points);
        break;
      case v1::LEDGER_KIND_PENDING_RELEASE:
        Points("released", "purchase").Increment(points);
        break;
      case v1::LEDGER_KIND_EXPIRE:
        Points("expired", "expiry").Increment(points);
        break;
      case v1::LEDGER_KIND_ACTIVITY:
        Points("earned", "activity").Increment(points);
        break;
      case v1::LEDGER_KIND_MILESTONE:
        Points("awarded", "milestone").Increment(points);
        break;
      case v1::LEDGER_KIND_CLAWBACK:
        Points("clawed_back", "refund").Increment(points);
        break;
      case v1::LEDGER_KIND_AWARD:
        Points("awarded", SourceLabel(f.source)).Increment(points);
        break;
      case v1::LEDGER_KIND_ADJUST:
        Points(f.points >= 0 ? "adjusted_up" : "adjusted_down").Increment(std::abs(points));
        break;
      case v1::LEDGER_KIND_HOLD:
        Points("held").Increment(points);
        break;
      case v1::LEDGER_KIND_CAPTURE:
        Points("captured").Increment(points);
        break;
      case v1::LEDGER_KIND_VOID:
        Points("voided").Increment(points);
        break;
      case v1::LEDGER_KIND_HOLD_EXPIRED:
        Points("hold_expired").Increment(points);
        break;
      default:
        break;
    }
  }
}

void AccrualMetrics::ObserveBatch(const std::map<std::string, int64_t>& per_topic,
                                  const BatchResult& result, double commit_seconds) {
  ConsumerMetrics::Batch batch{per_topic, result.duplicates, {}, commit_seconds};
  for (const auto& [key, n] : result.dead_lettered) {
    auto bar = key.find('|');  // "<topic>|<reason kind>"
    batch.dead_lettered[{key.substr(0, bar), key.substr(bar + 1)}] += n;
  }
  consumer_.ObserveBatch(batch);
  std::lock_guard lock(mu_);
  purchases_.Add({{"member", "true"}}).Increment(static_cast<double>(result.purchases_applied));
  member_purchases_.Add({{"nth", "first"}})
      .Increment(static_cast<double>(result.purchases_applied - result.repeat_purchases));
  member_purchases_.Add({{"nth", "repeat"}})
      .Increment(static_cast<double>(result.repeat_purchases));
  spend_.Add({{"member", "true"}}).Increment(static_cast<double>(result.member_spend_minor));
  spend_.Add({{"member", "false"}}).Increment(static_cast<double>(result.non_member_spend_minor));
  purchases_.Add({{"member", "false"}}).Increment(static_cast<double>(result.non_member_purchases));
  refunds_parked_.Increment(static_cast<double>(result.refunds_parked));
}

void AccrualMetrics::SetLag(const std::map<TopicPartition, int64_t>& lag) { consumer_.SetLag(lag); }

void AccrualMetrics::SetGauges(int64_t members, int64_t open_holds) {
  members_.Set(static_cast<double>(members));
  open_holds_.Set(static_cast<double>(open_holds));
}

}  // namespace loyalty::accrual
