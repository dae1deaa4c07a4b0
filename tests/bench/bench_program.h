// The loyalty program the benchmarks of the earning rules run (issue 3): 20 live campaigns
// of all three effects with every kind of filter, members spread over four tiers by paid
// memberships, a third of them in a segment, and purchases of three lines. Shared by
// accrual_bench --rules (the service) and earning_rules_bench (the core in-process).
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/purchases.pb.h"

namespace loyalty::bench {

inline constexpr int kBenchCampaigns = 20;
inline constexpr const char* kBenchCategories[] = {"coffee",    "bakery", "dairy",  "fruit",
                                                   "meat",      "drinks", "snacks", "frozen",
                                                   "household", "beauty"};

// Campaign i of the 20. Every fourth has a budget of budget_points.
inline v1::Campaign BenchCampaign(int i, int64_t budget_points) {
  v1::Campaign c;
  c.set_campaign_id("bench-" + std::to_string(i));
  c.set_name("campaign " + std::to_string(i));
  c.set_priority(i % 5);
  switch (i % 3) {
    case 0:
      c.set_effect(v1::CAMPAIGN_EFFECT_MULTIPLIER);
      c.set_value(15'000 + 1'000 * (i % 4));
      break;
    case 1:
      c.set_effect(v1::CAMPAIGN_EFFECT_FIXED_BONUS);
      c.set_value(5 + i);
      c.set_min_basket_minor(20'000);
      break;
    default:
      c.set_effect(v1::CAMPAIGN_EFFECT_LINE_BONUS);
      c.set_value(100 + 50 * (i % 3));
      break;
  }
  // Filters of every kind, so that matching does real work.
  if (i % 2 == 0) c.add_categories(kBenchCategories[i % 10]);
  if (i % 5 == 1) c.add_stores("store-" + std::to_string(i));
  if (i % 4 == 2) c.add_tiers(i % 8 == 2 ? "Gold" : "Silver");
  if (i % 7 == 3) c.add_segments("students");
  c.set_per_member_cap(i % 6 == 0 ? 5'000 : 0);
  c.set_budget_points(i % 4 == 3 ? budget_points : 0);
  return c;
}

// The tier member m buys for a year ("" for none: every fourth member earns its tier).
inline const char* BenchPaidTier(int m) {
  static const char* kPaid[] = {"", "Silver", "Gold", "Platinum"};
  return kPaid[m % 4];
}

// Whether member m is in the "students" segment.
inline bool BenchInSegment(int m) { return m % 3 == 0; }

// Adds three lines (sku, category, 1-3 units of 1-200 UAH) and sets the amount to their sum.
inline void AddBenchLines(v1::PurchaseEvent& p, std::mt19937_64& rng) {
  int64_t amount = 0;
  for (int l = 0; l < 3; ++l) {
    auto* line = p.add_lines();
    line->set_sku("sku-" + std::to_string(rng() % 1000));
    line->set_category(kBenchCategories[rng() % 10]);
    line->set_quantity(1 + static_cast<int64_t>(rng() % 3));
    line->set_unit_price_minor(100 + static_cast<int64_t>(rng() % 20'000));
    amount += line->quantity() * line->unit_price_minor();
  }
  p.set_amount_minor(amount);
}

}  // namespace loyalty::bench
