#include "services/accrual/core/earning.h"

namespace loyalty::accrual {

int64_t BasePoints(int64_t amount_minor, int32_t rate_bp, int64_t minor_units_per_point) {
  if (amount_minor <= 0 || rate_bp <= 0 || minor_units_per_point <= 0) return 0;
  __int128 numerator = static_cast<__int128>(amount_minor) * rate_bp;
  __int128 denominator = static_cast<__int128>(10000) * minor_units_per_point;
  return static_cast<int64_t>(numerator / denominator);
}

int64_t ClawbackPoints(int64_t points_earned, int64_t purchase_amount_minor,
                       int64_t refunded_before_minor, int64_t refund_minor, int64_t clawed_before) {
  if (purchase_amount_minor <= 0) return 0;
  int64_t refunded_after = refunded_before_minor + refund_minor;
  if (refunded_after > purchase_amount_minor) refunded_after = purchase_amount_minor;
  __int128 target = static_cast<__int128>(points_earned) * refunded_after / purchase_amount_minor;
  int64_t claw = static_cast<int64_t>(target) - clawed_before;
  return claw > 0 ? claw : 0;
}

}  // namespace loyalty::accrual
