#include "common/accrual_retry.h"

#include <gtest/gtest.h>

namespace loyalty {
namespace {

TEST(AccrualRetryTest, RepeatsOnlyCallsWhoseOutcomeIsUnknown) {
  EXPECT_FALSE(ShouldRetryAccrualCall(Status::Ok()));
  for (Code refusal :
       {Code::kInvalidArgument, Code::kNotFound, Code::kAlreadyExists, Code::kFailedPrecondition}) {
    EXPECT_FALSE(ShouldRetryAccrualCall(Status(refusal, "no"))) << static_cast<int>(refusal);
  }
  EXPECT_TRUE(ShouldRetryAccrualCall(Status(Code::kUnavailable, "down")));
  EXPECT_TRUE(ShouldRetryAccrualCall(Internal("accrual failed")));
}

}  // namespace
}  // namespace loyalty
