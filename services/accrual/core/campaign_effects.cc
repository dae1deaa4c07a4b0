#include "services/accrual/core/campaign_effects.h"

#include <algorithm>

namespace loyalty::accrual {
namespace {

// floor(a * b / c), without intermediate overflow; never negative.
int64_t MulDiv(int64_t a, int64_t b, int64_t c) {
  if (c <= 0) return 0;
  __int128 r = static_cast<__int128>(a) * b / c;
  return r < 0 ? 0 : static_cast<int64_t>(r);
}

// value / 10^digits as a decimal without trailing fraction zeros: (15000, 4) -> "1.5".
std::string TrimmedDecimal(int64_t value, int digits) {
  uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  uint64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  std::string out = (value < 0 ? "-" : "") + std::to_string(magnitude / scale);
  std::string fraction = std::to_string(magnitude % scale);
  fraction.insert(0, digits - fraction.size(), '0');
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (!fraction.empty()) out += "." + fraction;
  return out;
}

// Multiplier: the base points again, times (value - 1x), on the matching amount.
const CampaignEffectSpec kMultiplier{
    v1::CAMPAIGN_EFFECT_MULTIPLIER,
    {"multiplier"},
    ValueUnit::kBasisPoints,
    [](int64_t value) {
      if (value <= 10'000 || value > 1'000'000) {
        return InvalidArgument(
            "campaign.value: a multiplier is in basis points above 10000 (20000 doubles)");
      }
      return Status::Ok();
    },
    [](const EffectInput& in) {
      return Points(MulDiv(in.matching.value(),
                           static_cast<int64_t>(in.base_rate_bp) * (in.value - 10'000),
                           10'000LL * 10'000 * in.minor_units_per_point));
    },
    [](int64_t value) { return FactorText(value) + " base points"; },
};

Status PositivePoints(int64_t value) {
  if (value <= 0 || value > 1'000'000'000)
    return InvalidArgument("campaign.value: must be positive");
  return Status::Ok();
}

// Fixed bonus: value points per qualifying purchase.
const CampaignEffectSpec kFixedBonus{
    v1::CAMPAIGN_EFFECT_FIXED_BONUS,
    {"fixed_bonus", "fixed"},
    ValueUnit::kPoints,
    PositivePoints,
    [](const EffectInput& in) { return Points(in.value); },
    [](int64_t value) { return "+" + std::to_string(value) + " points per purchase"; },
};

// Line bonus: value basis points of the matching lines' amount, as points.
const CampaignEffectSpec kLineBonus{
    v1::CAMPAIGN_EFFECT_LINE_BONUS,
    {"line_bonus", "line"},
    ValueUnit::kBasisPoints,
    PositivePoints,
    [](const EffectInput& in) {
      return Points(MulDiv(in.matching.value(), in.value, 10'000LL * in.minor_units_per_point));
    },
    [](int64_t value) { return PercentText(value) + " of matching lines"; },
};

}  // namespace

const std::vector<CampaignEffectSpec>& CampaignEffects() {
  static const std::vector<CampaignEffectSpec> effects = {kMultiplier, kFixedBonus, kLineBonus};
  return effects;
}

const CampaignEffectSpec* FindCampaignEffect(v1::CampaignEffect effect) {
  for (const auto& spec : CampaignEffects()) {
    if (spec.effect == effect) return &spec;
  }
  return nullptr;
}

const CampaignEffectSpec* FindCampaignEffect(std::string_view name) {
  for (const auto& spec : CampaignEffects()) {
    if (std::find(spec.names.begin(), spec.names.end(), name) != spec.names.end()) return &spec;
  }
  return nullptr;
}

std::string FactorText(int64_t basis_points) { return TrimmedDecimal(basis_points, 4) + "x"; }

std::string PercentText(int64_t basis_points) { return TrimmedDecimal(basis_points, 2) + "%"; }

}  // namespace loyalty::accrual
