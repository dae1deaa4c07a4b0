// The rules redemption applies, read from the service configuration (keys under
// "redemption.", see docs/redemption.md).
#pragma once

#include <cstdint>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace loyalty::redemption {

struct RedemptionConfig {
  std::string currency = "UAH";
  // How long a redemption's hold lives. A saga that cannot finish within it (accrual or
  // redemption down) finds the hold expired and compensates: the points come back by expiry.
  int64_t redeem_hold_ttl_seconds = 600;
  int64_t max_quantity = 100;
  int64_t default_voucher_validity_days = 30;
  // Checkout: one point pays point_value_minor minor units; points may pay at most
  // checkout_max_share_bp of the basket and are not used below checkout_min_points.
  int64_t point_value_minor = 1;
  int32_t checkout_max_share_bp = 5000;
  int64_t checkout_min_points = 100;
  int64_t checkout_default_ttl_seconds = 600;
  int64_t checkout_max_ttl_seconds = 3600;
  // Calls to accrual that fail with UNAVAILABLE are repeated this many times before the
  // caller is answered UNAVAILABLE; the background resumer keeps going after that.
  int accrual_attempts = 2;
  // Finished redemptions, and finished checkouts, kept in memory as a cache of the store
  // (unfinished ones always are); each trimmed back to this when it doubles.
  int64_t cached_finished = 100'000;

  // Keys under "redemption.", declared by Keys() with this struct's defaults.
  static StatusOr<RedemptionConfig> FromConfig(const Config& config);
  static ConfigKeys Keys();
};

}  // namespace loyalty::redemption
