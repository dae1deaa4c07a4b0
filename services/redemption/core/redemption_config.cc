#include "services/redemption/core/redemption_config.h"

namespace loyalty::redemption {

StatusOr<RedemptionConfig> RedemptionConfig::FromConfig(const Config& config) {
  RedemptionConfig c;
  c.currency = config.GetString("redemption.currency", c.currency);
  c.redeem_hold_ttl_seconds =
      config.GetInt("redemption.redeem_hold_ttl_seconds", c.redeem_hold_ttl_seconds);
  c.max_quantity = config.GetInt("redemption.max_quantity", c.max_quantity);
  c.default_voucher_validity_days =
      config.GetInt("redemption.voucher_validity_days", c.default_voucher_validity_days);
  c.point_value_minor = config.GetInt("redemption.checkout.point_value_minor", c.point_value_minor);
  c.checkout_max_share_bp = static_cast<int32_t>(
      config.GetInt("redemption.checkout.max_share_bp", c.checkout_max_share_bp));
  c.checkout_min_points = config.GetInt("redemption.checkout.min_points", c.checkout_min_points);
  c.checkout_default_ttl_seconds =
      config.GetInt("redemption.checkout.default_ttl_seconds", c.checkout_default_ttl_seconds);
  c.checkout_max_ttl_seconds =
      config.GetInt("redemption.checkout.max_ttl_seconds", c.checkout_max_ttl_seconds);
  c.accrual_attempts = static_cast<int>(config.GetInt("redemption.accrual_attempts", 2));
  c.cached_finished = config.GetInt("redemption.cached_finished", c.cached_finished);
  if (c.currency.size() != 3) return InvalidArgument("redemption.currency: ISO-4217 code");
  if (c.redeem_hold_ttl_seconds <= 0) {
    return InvalidArgument("redemption.redeem_hold_ttl_seconds: must be positive");
  }
  if (c.max_quantity <= 0) return InvalidArgument("redemption.max_quantity: must be positive");
  if (c.point_value_minor <= 0) {
    return InvalidArgument("redemption.checkout.point_value_minor: must be positive");
  }
  if (c.checkout_max_share_bp <= 0 || c.checkout_max_share_bp > 10000) {
    return InvalidArgument("redemption.checkout.max_share_bp: must be in 1..10000");
  }
  if (c.checkout_min_points < 0) {
    return InvalidArgument("redemption.checkout.min_points: must not be negative");
  }
  if (c.checkout_default_ttl_seconds <= 0 ||
      c.checkout_default_ttl_seconds > c.checkout_max_ttl_seconds) {
    return InvalidArgument(
        "redemption.checkout.default_ttl_seconds: must be in 1..max_ttl_seconds");
  }
  if (c.accrual_attempts < 1) return InvalidArgument("redemption.accrual_attempts: at least 1");
  if (c.cached_finished < 1) {
    return InvalidArgument("redemption.cached_finished: at least 1");
  }
  return c;
}

}  // namespace loyalty::redemption
