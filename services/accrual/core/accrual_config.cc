#include "services/accrual/core/accrual_config.h"

#include <stdexcept>

namespace loyalty::accrual {

StatusOr<AccrualConfig> AccrualConfig::FromConfig(const Config& config) {
  AccrualConfig out;
  try {
    out.currency = config.GetString("program.currency", out.currency);
    out.minor_units_per_point =
        config.GetInt("program.minor_units_per_point", out.minor_units_per_point);
    out.welcome_bonus = config.GetInt("program.welcome_bonus", out.welcome_bonus);
    out.default_country_code =
        config.GetString("program.default_country_code", out.default_country_code);
    out.default_language = config.GetString("program.default_language", out.default_language);
    out.default_hold_ttl_seconds =
        config.GetInt("holds.default_ttl_seconds", out.default_hold_ttl_seconds);
    out.max_hold_ttl_seconds = config.GetInt("holds.max_ttl_seconds", out.max_hold_ttl_seconds);
    YAML::Node tiers = config.GetNode("program.tiers");
    if (tiers && tiers.IsSequence()) {
      out.tiers.clear();
      for (const auto& tier : tiers) {
        out.tiers.push_back({tier["name"].as<std::string>(), tier["earn_rate_bp"].as<int32_t>()});
      }
    }
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
  if (out.tiers.empty()) return InvalidArgument("program.tiers: at least one tier is needed");
  for (const auto& tier : out.tiers) {
    if (tier.name.empty()) return InvalidArgument("program.tiers: a tier has no name");
    if (tier.earn_rate_bp < 0 || tier.earn_rate_bp > 100000) {
      return InvalidArgument("program.tiers." + tier.name + ".earn_rate_bp: out of 0..100000");
    }
  }
  if (out.minor_units_per_point <= 0) {
    return InvalidArgument("program.minor_units_per_point: must be positive");
  }
  if (out.welcome_bonus < 0) return InvalidArgument("program.welcome_bonus: must be >= 0");
  if (out.default_hold_ttl_seconds <= 0 ||
      out.default_hold_ttl_seconds > out.max_hold_ttl_seconds) {
    return InvalidArgument("holds.default_ttl_seconds: must be in 1..holds.max_ttl_seconds");
  }
  return out;
}

}  // namespace loyalty::accrual
