// The effects a campaign can have, one table entry each: its names, how its value is given,
// how it is checked, what share of a purchase it earns, and how it reads to people. The
// earning engine, campaign validation and loyaltyctl all go through this table, so that a
// new effect (say "every 5th purchase free") is one entry here, its enum value in
// accrual.proto, and its test.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "loyalty/v1/accrual.pb.h"
#include "services/accrual/core/types.h"

namespace loyalty::accrual {

// What an effect sees of one purchase.
struct EffectInput {
  int64_t value = 0;         // the campaign's value, in the effect's terms
  MinorUnits matching;       // the part of the amount on lines the campaign's filters match
  int32_t base_rate_bp = 0;  // the member's (or partner's) base earn rate
  int64_t minor_units_per_point = 1;
};

enum class ValueUnit { kBasisPoints, kPoints };

struct CampaignEffectSpec {
  v1::CampaignEffect effect;
  std::vector<std::string_view> names;  // the first is the canonical one
  ValueUnit unit;
  Status (*validate)(int64_t value);  // the message names campaign.value
  Points (*share)(const EffectInput& input);
  std::string (*describe)(int64_t value);
};

const std::vector<CampaignEffectSpec>& CampaignEffects();
const CampaignEffectSpec* FindCampaignEffect(v1::CampaignEffect effect);
const CampaignEffectSpec* FindCampaignEffect(std::string_view name);

// value / 10^4 as a factor ("2x", "1.5x") and value / 10^2 as a percentage ("5%").
std::string FactorText(int64_t basis_points);
std::string PercentText(int64_t basis_points);

}  // namespace loyalty::accrual
