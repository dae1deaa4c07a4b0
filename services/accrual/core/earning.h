// The arithmetic of earning and claw-back, as pure functions so that the rounding rules are
// stated once and tested directly.
//
// Rounding: points are always rounded down (floor). A member never receives a fraction of a
// point, and a refund claws back exactly what the refunded share earned: the total clawed
// back after each refund is floor(earned * refunded_so_far / amount), so a full refund
// returns every point and partial refunds never over- or under-claw in sum.
#pragma once

#include <cstdint>

namespace loyalty::accrual {

// floor(amount_minor * rate_bp / 10000 / minor_units_per_point), computed without
// intermediate rounding or overflow.
int64_t BasePoints(int64_t amount_minor, int32_t rate_bp, int64_t minor_units_per_point);

// Points to claw back for one refund, given what earlier refunds of the purchase took.
int64_t ClawbackPoints(int64_t points_earned, int64_t purchase_amount_minor,
                       int64_t refunded_before_minor, int64_t refund_minor, int64_t clawed_before);

}  // namespace loyalty::accrual
