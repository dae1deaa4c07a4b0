#include "tools/loyaltyctl/format.h"

#include <gtest/gtest.h>

#include <limits>
#include <sstream>

namespace loyalty::ctl {
namespace {

TEST(FormatTest, IsoUtc) {
  EXPECT_EQ(IsoUtc(1'767'225'600'000), "2026-01-01T00:00:00Z");
  EXPECT_EQ(IsoUtc(1'767'225'600'999), "2026-01-01T00:00:00Z");
  EXPECT_EQ(IsoUtc(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(IsoUtc(0), "-");
}

TEST(FormatTest, SignedAndMoney) {
  EXPECT_EQ(Signed(5), "+5");
  EXPECT_EQ(Signed(-5), "-5");
  EXPECT_EQ(Signed(0), "0");
  EXPECT_EQ(Money(12345, "UAH"), "123.45 UAH");
  EXPECT_EQ(Money(5, "UAH"), "0.05 UAH");
  EXPECT_EQ(Money(-150, ""), "-1.50");
  EXPECT_EQ(Money(std::numeric_limits<int64_t>::min(), ""), "-92233720368547758.08");
}

TEST(FormatTest, EnumNames) {
  EXPECT_EQ(KindName(v1::LEDGER_KIND_HOLD_EXPIRED), "hold_expired");
  EXPECT_EQ(StatusName(v1::MEMBER_STATUS_ERASED), "erased");
  EXPECT_EQ(StatusName(v1::HOLD_STATUS_CAPTURED), "captured");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::FAILED_PRECONDITION), "FAILED_PRECONDITION");
  EXPECT_EQ(GrpcCodeName(static_cast<grpc::StatusCode>(99)), "CODE_99");
}

TEST(FormatTest, TableAlignsByCharactersAndSkipsTrailingPadding) {
  Table table({{"NAME"}, {"POINTS", Table::kRight}, {"REASON"}});
  table.AddRow({"Олена", "5", "бонус"});
  table.AddRow({"bob", "1200", "x"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(),
            "NAME   POINTS  REASON\n"
            "Олена       5  бонус\n"
            "bob      1200  x\n");
}

TEST(FormatTest, FieldsHaveNoHeader) {
  Fields fields;
  fields.Add("member", "m1").Add("lifetime earned", "10");
  std::ostringstream out;
  fields.Print(out);
  EXPECT_EQ(out.str(),
            "member           m1\n"
            "lifetime earned  10\n");
}

TEST(FormatTest, NewEnumNames) {
  EXPECT_EQ(KindName(v1::LEDGER_KIND_PENDING_RELEASE), "pending_release");
  EXPECT_EQ(KindName(v1::LEDGER_KIND_MILESTONE), "milestone");
  EXPECT_EQ(EffectName(v1::CAMPAIGN_EFFECT_LINE_BONUS), "line_bonus");
  EXPECT_EQ(StatusName(v1::REFERRAL_STATUS_REWARDED), "rewarded");
  EXPECT_EQ(StepName(v1::STEP_STATE_FAILED), "failed");
}

TEST(FormatTest, BasisPointsAndCampaignValues) {
  EXPECT_EQ(FactorText(20'000), "2x");
  EXPECT_EQ(FactorText(15'000), "1.5x");
  EXPECT_EQ(FactorText(10'001), "1.0001x");
  EXPECT_EQ(PercentText(500), "5%");
  EXPECT_EQ(PercentText(250), "2.5%");
  EXPECT_EQ(PercentText(5), "0.05%");
  EXPECT_EQ(CampaignValueText(v1::CAMPAIGN_EFFECT_MULTIPLIER, 20'000), "2x base points");
  EXPECT_EQ(CampaignValueText(v1::CAMPAIGN_EFFECT_FIXED_BONUS, 50), "+50 points per purchase");
  EXPECT_EQ(CampaignValueText(v1::CAMPAIGN_EFFECT_LINE_BONUS, 500), "5% of matching lines");
}

TEST(FormatTest, CampaignState) {
  v1::Campaign c;
  c.set_starts_at_ms(1000);
  c.set_ends_at_ms(2000);
  EXPECT_EQ(CampaignState(c, 999), "scheduled");
  EXPECT_EQ(CampaignState(c, 1000), "live");
  EXPECT_EQ(CampaignState(c, 2000), "over");  // ends_at_ms is exclusive
  c.set_ends_at_ms(0);
  EXPECT_EQ(CampaignState(c, 1'000'000'000), "live");  // open-ended
  c.set_ended(true);
  EXPECT_EQ(CampaignState(c, 1500), "ended");
}

TEST(FormatTest, NextTier) {
  v1::TierProgress progress;
  EXPECT_EQ(NextTierText(progress), "- (top tier)");
  progress.set_next_tier("Gold");
  progress.set_spend_needed_minor(475'000);
  progress.set_purchases_needed(1);
  EXPECT_EQ(NextTierText(progress), "Gold: 4750.00 more spend or 1 more purchase");
  progress.set_spend_needed_minor(0);  // the tier has no spend threshold
  progress.set_purchases_needed(11);
  EXPECT_EQ(NextTierText(progress), "Gold: 11 more purchases");
  progress.set_purchases_needed(0);
  EXPECT_EQ(NextTierText(progress), "Gold: qualified, moves up at the next evaluation");
}

TEST(FormatTest, CountAndJoin) {
  EXPECT_EQ(Count(1, "purchase"), "1 purchase");
  EXPECT_EQ(Count(0, "purchase"), "0 purchases");
  v1::Member member;
  EXPECT_EQ(JoinOrDash(member.segments()), "-");
  member.add_segments("vip");
  member.add_segments("students");
  EXPECT_EQ(JoinOrDash(member.segments()), "vip, students");
}

}  // namespace
}  // namespace loyalty::ctl
