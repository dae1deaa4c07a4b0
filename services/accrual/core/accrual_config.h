// The program rules accrual applies, read from the service configuration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace loyalty::accrual {

struct TierRule {
  std::string name;
  int32_t earn_rate_bp = 0;  // basis points of the purchase amount
};

struct AccrualConfig {
  // The lowest tier comes first; every member starts there.
  std::vector<TierRule> tiers = {
      {"Bronze", 100}, {"Silver", 200}, {"Gold", 300}, {"Platinum", 500}};
  std::string currency = "UAH";         // purchases in another currency are dead-lettered
  int64_t minor_units_per_point = 1;    // 1: one point per minor unit of cashback
  int64_t welcome_bonus = 0;
  std::string default_country_code;     // for national phone numbers, e.g. "380"
  std::string default_language = "en";
  int64_t default_hold_ttl_seconds = 15 * 60;
  int64_t max_hold_ttl_seconds = 7 * 24 * 3600;
  int64_t max_amount_minor = 100'000'000'000;  // a purchase above this is refused as bad input

  // Keys under "program." (see docs/configuration.md).
  static StatusOr<AccrualConfig> FromConfig(const Config& config);
};

}  // namespace loyalty::accrual
