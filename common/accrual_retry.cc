#include "common/accrual_retry.h"

namespace loyalty {

bool ShouldRetryAccrualCall(const Status& status) {
  // Exhaustive, without a default: a code added to Code does not compile here (-Wswitch,
  // -Werror) until someone decides which side it is on.
  switch (status.code()) {
    case Code::kOk:
    case Code::kInvalidArgument:
    case Code::kNotFound:
    case Code::kAlreadyExists:
    case Code::kFailedPrecondition:
    // The policy refused this service the call: asking again is refused again until an
    // operator changes the policy, and the caller should hear it now (docs/security.md).
    case Code::kPermissionDenied:
    case Code::kUnauthenticated:
      return false;
    case Code::kInternal:
    case Code::kUnavailable:  // FromGrpc folds deadline, cancelled, aborted... in here
      return true;
  }
  return true;  // not a Code at all: the outcome is unknown
}

}  // namespace loyalty
