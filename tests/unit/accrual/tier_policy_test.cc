#include "services/accrual/core/tier_policy.h"

#include <gtest/gtest.h>

namespace loyalty::accrual {
namespace {

TEST(TierPolicyTest, QualifyingHigherUpgradesAtOnceToTheQualifiedTier) {
  TierDecision d = ReviewTier(/*current=*/0, /*qualified=*/2, /*in_grace=*/false);
  EXPECT_EQ(d.step, TierStep::kUpgrade);
  EXPECT_EQ(d.to_tier, 2);
}

TEST(TierPolicyTest, StillQualifiedKeepsTheTier) {
  TierDecision d = ReviewTier(1, 1, /*in_grace=*/true);
  EXPECT_EQ(d.step, TierStep::kKeep);
  EXPECT_EQ(d.to_tier, 1);
}

TEST(TierPolicyTest, BelowTheThresholdGivesGraceFirstThenOneTierDown) {
  TierDecision first = ReviewTier(2, 0, /*in_grace=*/false);
  EXPECT_EQ(first.step, TierStep::kStartGrace);
  EXPECT_EQ(first.to_tier, 2);
  TierDecision second = ReviewTier(2, 0, /*in_grace=*/true);
  EXPECT_EQ(second.step, TierStep::kDownOne);
  EXPECT_EQ(second.to_tier, 1);  // one at a time, even if the member qualifies for none
}

}  // namespace
}  // namespace loyalty::accrual
