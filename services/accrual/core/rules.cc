#include "services/accrual/core/rules.h"

#include <algorithm>

#include "common/civil_date.h"
#include "common/clock.h"
#include "services/accrual/core/campaign_effects.h"
#include "services/accrual/core/earning.h"

namespace loyalty::accrual {
namespace {

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list,
              const std::string& value) {
  // Indexed: the lists hold a value or two, and the iterators did not inline.
  for (int i = 0; i < list.size(); ++i) {
    if (list.Get(i) == value) return true;
  }
  return false;
}

// The part of the purchase amount on lines the campaign's category/sku filters match: the
// whole amount if the campaign has no such filters, nothing if the purchase has no lines
// (a basket without lines cannot show that it holds coffee).
int64_t MatchingAmount(const v1::Campaign& c, const v1::PurchaseEvent& p) {
  if (c.categories().empty() && c.skus().empty()) return p.amount_minor();
  __int128 sum = 0;
  for (const auto& line : p.lines()) {
    bool match = (c.categories().empty() || Contains(c.categories(), line.category())) &&
                 (c.skus().empty() || Contains(c.skus(), line.sku()));
    if (match) sum += static_cast<__int128>(line.quantity()) * line.unit_price_minor();
  }
  return static_cast<int64_t>(std::min<__int128>(sum, p.amount_minor()));
}

}  // namespace

int64_t DayOf(int64_t ms) { return ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs; }

int64_t LotExpiry(const AccrualConfig& config, int64_t now_ms) {
  int64_t day = DayOf(now_ms);
  const auto [y, m, d] = CivilFromDays(day);
  int64_t end_day;  // the first day after the lot's life
  switch (config.expiry) {
    case ExpiryPolicy::kNever:
      return 0;
    case ExpiryPolicy::kRolling:
      end_day = day + config.expiry_days + 1;
      break;
    case ExpiryPolicy::kEndOfMonth:
      end_day = m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1);
      break;
    case ExpiryPolicy::kEndOfQuarter: {
      unsigned next_quarter_month = ((m - 1) / 3 + 1) * 3 + 1;
      end_day = next_quarter_month > 12 ? DaysFromCivil(y + 1, 1, 1)
                                        : DaysFromCivil(y, next_quarter_month, 1);
      break;
    }
    case ExpiryPolicy::kEndOfYear:
      end_day = DaysFromCivil(y + 1, 1, 1);
      break;
    default:
      return 0;
  }
  return end_day * kDayMs - 1;
}

WindowTotals TierWindow(const AccrualConfig& config, const MemberRecord& member, int64_t now_ms) {
  WindowTotals totals;
  int64_t first_day = DayOf(now_ms) - config.tier_window_days + 1;
  for (const auto& day : member.spend()) {
    if (day.day() < first_day) continue;
    totals.spend_minor += day.amount_minor();
    totals.purchases += day.purchases();
  }
  return totals;
}

int QualifiedTier(const AccrualConfig& config, const WindowTotals& totals) {
  int best = 0;
  for (size_t i = 1; i < config.tiers.size(); ++i) {
    const auto& t = config.tiers[i];
    bool by_spend = t.qualify_spend_minor > 0 && totals.spend_minor >= t.qualify_spend_minor;
    bool by_count = t.qualify_purchases > 0 && totals.purchases >= t.qualify_purchases;
    if (by_spend || by_count) best = static_cast<int>(i);
  }
  return best;
}

void RecordSpend(const AccrualConfig& config, MemberRecord& member, int64_t day,
                 int64_t amount_minor, int64_t purchases, int64_t now_ms) {
  int64_t first_day = DayOf(now_ms) - config.tier_window_days + 1;
  auto* days = member.mutable_spend();
  bool found = false;
  for (auto& d : *days) {
    if (d.day() == day) {
      d.set_amount_minor(std::max<int64_t>(0, d.amount_minor() + amount_minor));
      d.set_purchases(std::max<int64_t>(0, d.purchases() + purchases));
      found = true;
    }
  }
  if (!found && day >= first_day && amount_minor > 0) {
    auto* d = days->Add();
    d->set_day(day);
    d->set_amount_minor(amount_minor);
    d->set_purchases(purchases);
  }
  for (int i = days->size() - 1; i >= 0; --i) {
    if (days->Get(i).day() < first_day) days->DeleteSubrange(i, 1);
  }
}

v1::TierProgress Progress(const AccrualConfig& config, const MemberRecord& member, int64_t now_ms) {
  v1::TierProgress progress;
  WindowTotals totals = TierWindow(config, member, now_ms);
  progress.set_window_spend_minor(totals.spend_minor);
  progress.set_window_purchases(totals.purchases);
  progress.set_next_evaluation_at_ms(member.tier_review_at_ms());
  progress.set_in_grace(member.in_grace());
  if (member.paid_until_ms() > now_ms) progress.set_paid_until_ms(member.paid_until_ms());
  int current = std::max(0, config.TierIndex(member.member().tier()));
  for (const auto& b : config.tiers[current].benefits) progress.add_benefits(b);
  if (current + 1 < static_cast<int>(config.tiers.size())) {
    const auto& next = config.tiers[current + 1];
    progress.set_next_tier(next.name);
    if (next.qualify_spend_minor > 0) {
      progress.set_spend_needed_minor(
          std::max<int64_t>(0, next.qualify_spend_minor - totals.spend_minor));
    }
    if (next.qualify_purchases > 0) {
      progress.set_purchases_needed(
          std::max<int64_t>(0, next.qualify_purchases - totals.purchases));
    }
  }
  return progress;
}

bool CampaignLive(const v1::Campaign& c, int64_t now_ms) {
  return !c.ended() && now_ms >= c.starts_at_ms() &&
         (c.ends_at_ms() == 0 || now_ms < c.ends_at_ms());
}

v1::EarnBreakdown ComputeEarning(const AccrualConfig& config, const MemberRecord& member,
                                 const v1::PurchaseEvent& purchase,
                                 const std::vector<v1::Campaign*>& campaigns, int64_t now_ms,
                                 std::vector<v1::Campaign*>* applied) {
  v1::EarnBreakdown b;
  const std::string& tier_name = member.member().tier();
  const TierRule* tier = config.FindTier(tier_name);
  if (tier == nullptr) tier = &config.tiers.front();
  int32_t rate = tier->earn_rate_bp;
  if (const PartnerRule* partner =
          purchase.partner_id().empty() ? nullptr : config.FindPartner(purchase.partner_id())) {
    rate = partner->earn_rate_bp;
    b.set_partner_id(partner->partner_id);
  }
  b.set_amount_minor(purchase.amount_minor());
  b.set_currency(purchase.currency());
  b.set_tier(tier->name);
  b.set_base_rate_bp(rate);
  int64_t base = BasePoints(purchase.amount_minor(), rate, config.minor_units_per_point);
  b.set_base_points(base);
  int64_t total = base;

  const auto& segments = member.member().segments();
  for (v1::Campaign* c : campaigns) {
    if (!CampaignLive(*c, now_ms)) continue;
    if (purchase.amount_minor() < c->min_basket_minor()) continue;
    if (!c->stores().empty() && !Contains(c->stores(), purchase.store_id())) continue;
    if (!c->partners().empty() && !Contains(c->partners(), purchase.partner_id())) continue;
    if (!c->tiers().empty() && !Contains(c->tiers(), tier->name)) continue;
    if (!c->segments().empty() &&
        std::none_of(segments.begin(), segments.end(),
                     [&](const std::string& s) { return Contains(c->segments(), s); })) {
      continue;
    }
    int64_t matching = MatchingAmount(*c, purchase);
    if (matching <= 0) continue;
    const CampaignEffectSpec* effect = FindCampaignEffect(c->effect());
    if (effect == nullptr) continue;  // refused when the campaign was saved
    int64_t points =
        effect->share({c->value(), MinorUnits(matching), rate, config.minor_units_per_point})
            .value();
    if (c->budget_points() > 0) {
      points = std::min(points, std::max<int64_t>(0, c->budget_points() - c->spent_points()));
    }
    if (c->per_member_cap() > 0) {
      auto it = member.campaign_points().find(c->campaign_id());
      int64_t had = it == member.campaign_points().end() ? 0 : it->second;
      points = std::min(points, std::max<int64_t>(0, c->per_member_cap() - had));
    }
    if (points <= 0) continue;
    auto* share = b.add_campaigns();
    share->set_campaign_id(c->campaign_id());
    share->set_points(points);
    if (applied != nullptr) applied->push_back(c);
    total += points;
    if (c->exclusive()) break;
  }
  b.set_total_points(total);
  return b;
}

}  // namespace loyalty::accrual
