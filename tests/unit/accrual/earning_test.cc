#include "services/accrual/core/earning.h"

#include <gtest/gtest.h>

#include <random>

namespace loyalty::accrual {
namespace {

TEST(EarningTest, BasePointsRoundDown) {
  EXPECT_EQ(BasePoints(10'000, 100, 1), 100);  // 1% of 100.00
  EXPECT_EQ(BasePoints(12'345, 100, 1), 123);  // 123.45 rounds down
  EXPECT_EQ(BasePoints(12'399, 100, 1), 123);
  EXPECT_EQ(BasePoints(99, 100, 1), 0);
  EXPECT_EQ(BasePoints(10'000, 250, 100), 2);  // 2.5% = 250 minor = 2.5 points -> 2
  EXPECT_EQ(BasePoints(0, 500, 1), 0);
}

TEST(EarningTest, BasePointsDoNotOverflow) {
  // 10^15 minor units at 1000%: the product exceeds 64 bits before the division.
  EXPECT_EQ(BasePoints(1'000'000'000'000'000, 100'000, 1), 10'000'000'000'000'000);
}

TEST(EarningTest, FullRefundClawsBackEverything) {
  EXPECT_EQ(ClawbackPoints(123, 12'345, 0, 12'345, 0), 123);
}

TEST(EarningTest, PartialRefundsSumToTheFullClawback) {
  std::mt19937_64 rng(2024);
  for (int trial = 0; trial < 1000; ++trial) {
    int64_t amount = 1 + static_cast<int64_t>(rng() % 1'000'000);
    int64_t earned = static_cast<int64_t>(rng() % 50'000);
    int64_t refunded = 0, clawed = 0;
    while (refunded < amount) {
      int64_t part = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(amount - refunded));
      int64_t claw = ClawbackPoints(earned, amount, refunded, part, clawed);
      ASSERT_GE(claw, 0);
      refunded += part;
      clawed += claw;
      // Never more than the refunded share earned, never less than its floor.
      ASSERT_EQ(clawed, static_cast<int64_t>(static_cast<__int128>(earned) * refunded / amount));
    }
    ASSERT_EQ(clawed, earned) << "seed 2024 trial " << trial;
  }
}

}  // namespace
}  // namespace loyalty::accrual
