#include "services/accrual/core/lot_book.h"

#include <gtest/gtest.h>

namespace loyalty::accrual {
namespace {

constexpr TimeMs kNever(0);
constexpr TimeMs kMarch(1'772'323'200'000);
constexpr TimeMs kApril(1'775'001'600'000);

TEST(LotBookTest, CreditKeepsOneLotPerDateOldestFirstAndNeverExpiringLast) {
  MemberRecord member;
  EXPECT_TRUE(LotBook::Credit(member, Points(10), kNever));
  EXPECT_TRUE(LotBook::Credit(member, Points(20), kApril));
  EXPECT_TRUE(LotBook::Credit(member, Points(30), kMarch));
  EXPECT_FALSE(LotBook::Credit(member, Points(5), kMarch));  // the date had a lot already
  ASSERT_EQ(member.lots_size(), 3);
  EXPECT_EQ(member.lots(0).expires_at_ms(), kMarch.value());
  EXPECT_EQ(member.lots(0).points(), 35);
  EXPECT_EQ(member.lots(1).expires_at_ms(), kApril.value());
  EXPECT_EQ(member.lots(2).expires_at_ms(), 0);
  EXPECT_EQ(LotBook::Total(member), Points(65));
}

TEST(LotBookTest, DebitTakesFromTheLotsThatExpireFirstAndReturnsTheSlices) {
  MemberRecord member;
  LotBook::Credit(member, Points(10), kMarch);
  LotBook::Credit(member, Points(10), kApril);
  LotBook::Credit(member, Points(10), kNever);
  LotSlices taken = LotBook::Debit(member, Points(15));
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].expires_at_ms(), kMarch.value());
  EXPECT_EQ(taken[0].points(), 10);
  EXPECT_EQ(taken[1].expires_at_ms(), kApril.value());
  EXPECT_EQ(taken[1].points(), 5);
  EXPECT_EQ(LotBook::Total(taken), Points(15));
  EXPECT_EQ(LotBook::On(member, kMarch), Points(0));  // emptied, kept until its date
  EXPECT_EQ(member.lots_size(), 3);
  EXPECT_EQ(LotBook::Total(member), Points(15));
}

TEST(LotBookTest, RestoreGivesSlicesBackToTheirDatesAndNamesTheDatesThatWereGone) {
  MemberRecord member;
  LotBook::Credit(member, Points(10), kMarch);
  LotBook::Credit(member, Points(10), kApril);
  LotSlices taken = LotBook::Debit(member, Points(15));
  LotBook::Expire(member, kMarch);  // its date passed while the points were held
  std::vector<TimeMs> new_dates = LotBook::Restore(member, taken);
  ASSERT_EQ(new_dates.size(), 1u);
  EXPECT_EQ(new_dates[0], kMarch);
  EXPECT_EQ(LotBook::On(member, kMarch), Points(10));
  EXPECT_EQ(LotBook::On(member, kApril), Points(10));
}

TEST(LotBookTest, ExpireRemovesTheLotAndReturnsItsPoints) {
  MemberRecord member;
  LotBook::Credit(member, Points(7), kMarch);
  EXPECT_EQ(LotBook::Expire(member, kMarch), Points(7));
  EXPECT_EQ(LotBook::Expire(member, kMarch), Points(0));
  EXPECT_EQ(member.lots_size(), 0);
}

TEST(LotBookDeathTest, DebitingMoreThanTheLotsHoldStopsTheProcess) {
  MemberRecord member;
  LotBook::Credit(member, Points(5), kMarch);
  EXPECT_DEATH(LotBook::Debit(member, Points(6)), "invariant violated");
}

}  // namespace
}  // namespace loyalty::accrual
