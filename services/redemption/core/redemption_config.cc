#include "services/redemption/core/redemption_config.h"

namespace loyalty::redemption {

ConfigKeys RedemptionConfig::Keys() {
  const RedemptionConfig d;
  return {
      StringKey("redemption.currency", d.currency, "ISO-4217 currency of reward prices"),
      IntKey("redemption.redeem_hold_ttl_seconds", d.redeem_hold_ttl_seconds,
             "ttl of the accrual hold a redemption takes while its saga runs"),
      IntKey("redemption.max_quantity", d.max_quantity, "the most units one redemption may ask"),
      IntKey("redemption.voucher_validity_days", d.default_voucher_validity_days,
             "voucher validity for rewards that set none"),
      IntKey("redemption.checkout.point_value_minor", d.point_value_minor,
             "minor units one point pays at checkout"),
      IntKey("redemption.checkout.max_share_bp", d.checkout_max_share_bp,
             "the largest share of a basket points may pay, in basis points (1..10000)"),
      IntKey("redemption.checkout.min_points", d.checkout_min_points,
             "the fewest points a checkout may use"),
      IntKey("redemption.checkout.default_ttl_seconds", d.checkout_default_ttl_seconds,
             "a checkout without a ttl is cancelled after this"),
      IntKey("redemption.checkout.max_ttl_seconds", d.checkout_max_ttl_seconds,
             "the longest ttl a checkout may ask"),
      IntKey("redemption.accrual_attempts", d.accrual_attempts,
             "tries of an accrual call while the caller waits, before UNAVAILABLE"),
      IntKey("redemption.cached_finished", d.cached_finished,
             "finished redemptions kept in memory (trimmed back when it doubles)"),
  };
}

StatusOr<RedemptionConfig> RedemptionConfig::FromConfig(const Config& in) {
  Config config = in;
  config.Declare(Keys());
  RedemptionConfig c;
  c.currency = config.GetString("redemption.currency");
  c.redeem_hold_ttl_seconds = config.GetInt("redemption.redeem_hold_ttl_seconds");
  c.max_quantity = config.GetInt("redemption.max_quantity");
  c.default_voucher_validity_days = config.GetInt("redemption.voucher_validity_days");
  c.point_value_minor = config.GetInt("redemption.checkout.point_value_minor");
  c.checkout_max_share_bp = static_cast<int32_t>(config.GetInt("redemption.checkout.max_share_bp"));
  c.checkout_min_points = config.GetInt("redemption.checkout.min_points");
  c.checkout_default_ttl_seconds = config.GetInt("redemption.checkout.default_ttl_seconds");
  c.checkout_max_ttl_seconds = config.GetInt("redemption.checkout.max_ttl_seconds");
  c.accrual_attempts = static_cast<int>(config.GetInt("redemption.accrual_attempts"));
  c.cached_finished = config.GetInt("redemption.cached_finished");
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
