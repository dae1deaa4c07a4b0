// Statistics as a pure summary: counts by status, rejections by rule, and the points kept.
#include "services/referral/core/stats.h"

#include <gtest/gtest.h>

namespace loyalty::referral {
namespace {

v1::Referral Made(v1::ReferralStatus status, v1::StepState award = v1::STEP_STATE_NONE,
                  v1::StepState reversal = v1::STEP_STATE_NONE, const std::string& reason = "") {
  v1::Referral r;
  r.set_status(status);
  r.set_reason(reason);
  r.set_referrer_id("alice");
  r.mutable_referrer()->set_points(500);
  r.mutable_referrer()->set_award(award);
  r.mutable_referrer()->set_reversal(reversal);
  return r;
}

TEST(StatsTest, CountsEveryStatusAndKeepsOnlyPointsPaidAndNotReversed) {
  std::vector<v1::Referral> made = {
      Made(v1::REFERRAL_STATUS_PENDING),
      Made(v1::REFERRAL_STATUS_HELD),
      Made(v1::REFERRAL_STATUS_REJECTED, v1::STEP_STATE_NONE, v1::STEP_STATE_NONE, "cycle"),
      Made(v1::REFERRAL_STATUS_QUALIFIED, v1::STEP_STATE_PENDING),
      Made(v1::REFERRAL_STATUS_REWARDED, v1::STEP_STATE_DONE),
      Made(v1::REFERRAL_STATUS_REVERSED, v1::STEP_STATE_DONE, v1::STEP_STATE_DONE),
      Made(v1::REFERRAL_STATUS_EXPIRED)};
  std::vector<const v1::Referral*> pointers;
  for (const auto& r : made) pointers.push_back(&r);
  v1::ReferralStats stats = Summarize("alice", pointers, nullptr);
  EXPECT_EQ(stats.member_id(), "alice");
  EXPECT_EQ(stats.invited(), 7);
  EXPECT_EQ(stats.pending(), 1);
  EXPECT_EQ(stats.held(), 1);
  EXPECT_EQ(stats.rejected(), 1);
  EXPECT_EQ(stats.rejected_by_reason().at("cycle"), 1);
  EXPECT_EQ(stats.qualified(), 3);  // qualified, rewarded and reversed all qualified once
  EXPECT_EQ(stats.rewarded(), 1);
  EXPECT_EQ(stats.reversed(), 1);
  EXPECT_EQ(stats.expired(), 1);
  EXPECT_EQ(stats.points_earned(), 500);
  EXPECT_EQ(stats.referred_by(), "");
}

TEST(StatsTest, TheOwnReferralAddsTheInviteeBonusAndTheReferrerUnlessRejected) {
  v1::Referral own;
  own.set_referrer_id("carol");
  own.set_status(v1::REFERRAL_STATUS_REWARDED);
  own.mutable_invitee()->set_points(250);
  own.mutable_invitee()->set_award(v1::STEP_STATE_DONE);
  v1::ReferralStats stats = Summarize("alice", {}, &own);
  EXPECT_EQ(stats.referred_by(), "carol");
  EXPECT_EQ(stats.points_earned(), 250);
  own.set_status(v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(Summarize("alice", {}, &own).referred_by(), "");
  EXPECT_EQ(NetPoints(own.referrer()), Points(0));
}

}  // namespace
}  // namespace loyalty::referral
