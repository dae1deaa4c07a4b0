// The anti-fraud judgement as a pure decision: each rule against its case and a neighbour,
// the precedence of a rejection over a hold, and the cycle walk over a map of links.
#include "services/referral/core/judge.h"

#include <gtest/gtest.h>

#include <map>

#include "common/clock.h"

namespace loyalty::referral {
namespace {

constexpr int64_t kNow = 1'000 * kDayMs;

v1::Member Member(const std::string& id, const std::string& phone, const std::string& email,
                  int64_t enrolled_days_ago = 0) {
  v1::Member m;
  m.set_member_id(id);
  m.set_phone(phone);
  m.set_email(email);
  m.set_enrolled_at_ms(kNow - enrolled_days_ago * kDayMs);
  return m;
}

class JudgeTest : public ::testing::Test {
 protected:
  Verdict Decide(const v1::Member& invitee, bool cycle = false,
                 const MemberState* referrer_state = nullptr) {
    Application application{invitee, referrer, TimeMs(kNow)};
    application.cycle = cycle;
    application.referrer_state = referrer_state;
    return Judge(application, config);
  }

  ReferralConfig config;
  v1::Member referrer = Member("alice", "+38 067 111-00-01", "Alice.Smith+promo@gmail.com");
};

TEST_F(JudgeTest, AStrangerIsAccepted) {
  Verdict v = Decide(Member("bob", "+380671110002", "bob@example.com"));
  EXPECT_EQ(v.status, v1::REFERRAL_STATUS_PENDING);
  EXPECT_EQ(v.reason, "");
}

TEST_F(JudgeTest, SelfReferralBySameIdPhoneOrComparableEmailIsRejected) {
  EXPECT_EQ(Decide(referrer).detail, "the code is the invitee's own");
  Verdict phone = Decide(Member("bob", "380671110001", "bob@example.com"));
  EXPECT_EQ(phone.status, v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(phone.reason, "self_referral");
  EXPECT_EQ(phone.detail, "invitee and referrer share a phone number");
  Verdict email = Decide(Member("bob", "", "alicesmith@googlemail.com"));
  EXPECT_EQ(email.status, v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(email.detail, "invitee and referrer share an e-mail address");
  config.self_referral = RuleAction::kHold;
  EXPECT_EQ(Decide(referrer).status, v1::REFERRAL_STATUS_HELD);
  config.self_referral = RuleAction::kOff;
  EXPECT_EQ(Decide(referrer).status, v1::REFERRAL_STATUS_PENDING);
}

TEST_F(JudgeTest, LateApplicationNamesItsWindow) {
  Verdict late = Decide(Member("bob", "", "", /*enrolled_days_ago=*/31));
  EXPECT_EQ(late.status, v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(late.reason, "late_application");
  EXPECT_EQ(late.detail, "code applied more than 30 days after enrolment");
  EXPECT_EQ(Decide(Member("bob", "", "", 30)).status, v1::REFERRAL_STATUS_PENDING);
  config.apply_within_seconds = 10;
  EXPECT_EQ(Decide(Member("bob", "", "", 1)).detail,
            "code applied more than 10 seconds after enrolment");
}

TEST_F(JudgeTest, ACycleAndTheCapFireOnWhatTheCallerLookedUp) {
  v1::Member bob = Member("bob", "", "");
  EXPECT_EQ(Decide(bob, /*cycle=*/true).reason, "cycle");
  MemberState state;
  for (int i = 0; i < 10; ++i) state.add_recent_applied_ms(kNow - i * kDayMs);
  state.add_recent_applied_ms(kNow - 31 * kDayMs);  // outside the period: not counted
  Verdict capped = Decide(bob, false, &state);
  EXPECT_EQ(capped.status, v1::REFERRAL_STATUS_HELD);
  EXPECT_EQ(capped.detail, "referrer already has 10 referrals in 30 days");
  state.mutable_recent_applied_ms()->RemoveLast();
  state.mutable_recent_applied_ms()->RemoveLast();
  EXPECT_EQ(Decide(bob, false, &state).status, v1::REFERRAL_STATUS_PENDING);
  // No record of the referrer: nothing to count, even with a cap of 0.
  config.cap_count = 0;
  EXPECT_EQ(Decide(bob).status, v1::REFERRAL_STATUS_PENDING);
}

TEST_F(JudgeTest, ARejectionWinsOverAHoldAndTheFirstRuleOfTheWinningActionNamesIt) {
  v1::Member shares_phone = Member("bob", "380671110001", "", /*enrolled_days_ago=*/40);
  // self-referral holds, then the cycle rejects: the rejection wins.
  config.self_referral = RuleAction::kHold;
  Verdict v = Decide(shares_phone, /*cycle=*/true);
  EXPECT_EQ(v.status, v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(v.reason, "late_application");  // the first rejection after the hold
  // Two holds: the first keeps the verdict.
  config.late_application = RuleAction::kHold;
  config.cycle = RuleAction::kHold;
  v = Decide(shares_phone, true);
  EXPECT_EQ(v.status, v1::REFERRAL_STATUS_HELD);
  EXPECT_EQ(v.reason, "self_referral");
  // Two rejections: the first keeps it.
  config.self_referral = RuleAction::kReject;
  config.cycle = RuleAction::kReject;
  v = Decide(shares_phone, true);
  EXPECT_EQ(v.status, v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(v.reason, "self_referral");
}

TEST(CycleTest, FollowsReferredByLinksToTheTargetWithinTheDepth) {
  std::map<std::string, std::string> referred_by = {{"a", "b"}, {"b", "c"}, {"c", "d"}};
  ReferrerOf referrer_of = [&](const std::string& m) {
    auto it = referred_by.find(m);
    return it == referred_by.end() ? std::string() : it->second;
  };
  EXPECT_TRUE(ReachesInCycle("a", "d", referrer_of));
  EXPECT_TRUE(ReachesInCycle("a", "b", referrer_of));
  EXPECT_FALSE(ReachesInCycle("a", "x", referrer_of));
  EXPECT_FALSE(ReachesInCycle("d", "a", referrer_of));
  // A loop that does not reach the target ends at the depth limit.
  referred_by["d"] = "a";
  EXPECT_FALSE(ReachesInCycle("a", "x", referrer_of));
  // A chain longer than the depth is not followed to its end.
  referred_by.clear();
  for (int i = 0; i < kMaxCycleDepth + 1; ++i) {
    referred_by["m" + std::to_string(i)] = "m" + std::to_string(i + 1);
  }
  EXPECT_TRUE(ReachesInCycle("m0", "m" + std::to_string(kMaxCycleDepth), referrer_of));
  EXPECT_FALSE(ReachesInCycle("m0", "m" + std::to_string(kMaxCycleDepth + 1), referrer_of));
}

TEST(SameStoreTest, OnlyTheSameStoreWithinTheMinutesEitherWayIsAHit) {
  ReferralConfig config;  // 30 minutes
  MemberState referrer;
  auto* p = referrer.add_recent_purchases();
  p->set_store_id("kyiv-01");
  p->set_at_ms(kNow);
  auto hit = SameStoreHit(referrer, "kyiv-01", TimeMs(kNow - 30 * kMinuteMs), config);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(*hit, "first purchase at kyiv-01 within 30 minutes of a purchase by the referrer");
  EXPECT_TRUE(SameStoreHit(referrer, "kyiv-01", TimeMs(kNow + 30 * kMinuteMs), config).has_value());
  EXPECT_FALSE(
      SameStoreHit(referrer, "kyiv-01", TimeMs(kNow + 31 * kMinuteMs), config).has_value());
  EXPECT_FALSE(SameStoreHit(referrer, "kyiv-02", TimeMs(kNow), config).has_value());
}

}  // namespace
}  // namespace loyalty::referral
