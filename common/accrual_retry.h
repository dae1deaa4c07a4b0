// Whether a failed call to accrual is worth repeating, decided once for every service that
// calls it (redemption's sagas, referral's bonuses). Every mutating call carries an
// idempotency key, so repeating a call whose outcome is unknown can never apply it twice.
#pragma once

#include "common/status.h"

namespace loyalty {

// True when the outcome of the call is unknown (accrual unreachable, a deadline, an error of
// its own: the call may or may not have been applied), so the caller repeats it later with the
// same idempotency key. False for a success and for a refusal, which a repeat would only get
// again.
bool ShouldRetryAccrualCall(const Status& status);

}  // namespace loyalty
