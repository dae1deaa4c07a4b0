// The referral book against a real store: the state machine's transitions and what each
// keeps in step (held list, work list, events), the records and lists after a reopen, and
// the invariants that stop the process (a move the machine does not allow, a second
// qualification, a second reversal).
#include "services/referral/core/referral_book.h"

#include <gtest/gtest.h>

#include "tests/unit/referral/module_env.h"

namespace loyalty::referral {
namespace {

using v1::REFERRAL_STATUS_EXPIRED;
using v1::REFERRAL_STATUS_HELD;
using v1::REFERRAL_STATUS_PENDING;
using v1::REFERRAL_STATUS_QUALIFIED;
using v1::REFERRAL_STATUS_REJECTED;
using v1::REFERRAL_STATUS_REVERSED;
using v1::REFERRAL_STATUS_REWARDED;

TEST(StateMachineTest, MovesOnlyForwardAndHeldIsTheOneReturn) {
  EXPECT_TRUE(MayMove(REFERRAL_STATUS_PENDING, REFERRAL_STATUS_HELD));
  EXPECT_TRUE(MayMove(REFERRAL_STATUS_HELD, REFERRAL_STATUS_PENDING));
  EXPECT_TRUE(MayMove(REFERRAL_STATUS_HELD, REFERRAL_STATUS_QUALIFIED));
  EXPECT_TRUE(MayMove(REFERRAL_STATUS_QUALIFIED, REFERRAL_STATUS_REWARDED));
  EXPECT_TRUE(MayMove(REFERRAL_STATUS_REWARDED, REFERRAL_STATUS_REVERSED));
  EXPECT_FALSE(MayMove(REFERRAL_STATUS_QUALIFIED, REFERRAL_STATUS_PENDING));
  EXPECT_FALSE(MayMove(REFERRAL_STATUS_REWARDED, REFERRAL_STATUS_QUALIFIED));
  EXPECT_FALSE(MayMove(REFERRAL_STATUS_PENDING, REFERRAL_STATUS_REWARDED));
  for (auto final_status :
       {REFERRAL_STATUS_REJECTED, REFERRAL_STATUS_REVERSED, REFERRAL_STATUS_EXPIRED}) {
    for (int to = v1::ReferralStatus_MIN; to <= v1::ReferralStatus_MAX; ++to) {
      EXPECT_FALSE(MayMove(final_status, static_cast<v1::ReferralStatus>(to)));
    }
  }
}

class ReferralBookTest : public ::testing::Test {
 protected:
  ModuleEnv env;
};

TEST_F(ReferralBookTest, AHeldReferralIsListedUntilReleasedAndSurvivesAReopen) {
  Txn txn;
  v1::Referral& r = env.NewReferral(txn, "rf1", "alice", "bob");
  env.referrals->Hold(txn, r, "referrer_cap", "too many");
  env.Commit(txn);
  EXPECT_TRUE(env.Has(cf::kHeld, "rf1"));
  ASSERT_EQ(txn.facts.size(), 1u);
  EXPECT_EQ(txn.facts[0].kind, "held");

  env.Reopen();
  v1::ListReferralsResponse held = env.referrals->ListHeld("", 10);
  ASSERT_EQ(held.referrals_size(), 1);
  EXPECT_EQ(held.referrals(0).reason(), "referrer_cap");
  Txn release;
  env.referrals->Release(release, *env.referrals->Find("rf1"));
  env.Commit(release);
  EXPECT_FALSE(env.Has(cf::kHeld, "rf1"));
  EXPECT_EQ(env.referrals->Find("rf1")->status(), REFERRAL_STATUS_PENDING);
}

TEST_F(ReferralBookTest, QualifyingMakesBothAwardsWorkAndPublishesToBoth) {
  Txn txn;
  v1::Referral& r = env.NewReferral(txn, "rf1", "alice", "bob");
  r.set_purchase_id("p1");
  env.referrals->Qualify(txn, r);
  env.Commit(txn);
  EXPECT_TRUE(txn.work_added);
  EXPECT_EQ(r.referrer().award(), v1::STEP_STATE_PENDING);
  EXPECT_EQ(r.invitee().award(), v1::STEP_STATE_PENDING);
  EXPECT_EQ(env.referrals->work().count("rf1"), 1u);
  auto events = env.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].member_id(), "alice");
  EXPECT_EQ(events[1].member_id(), "bob");
  EXPECT_EQ(events[1].referral_qualified().purchase_id(), "p1");
  EXPECT_EQ(events[1].event_id(), "referral:bob:1");

  // The work list is rebuilt from the store.
  env.Reopen();
  EXPECT_EQ(env.referrals->work().count("rf1"), 1u);
}

TEST_F(ReferralBookTest, AOneSidedReferralAwardsOnlyTheReferrerAndIsRewardedWhenPaid) {
  Txn txn;
  v1::Referral& r = env.NewReferral(txn, "rf1", "alice", "bob", /*invitee_points=*/0);
  env.referrals->Qualify(txn, r);
  EXPECT_EQ(r.invitee().award(), v1::STEP_STATE_NONE);
  env.referrals->RewardIfPaid(txn, r);
  EXPECT_EQ(r.status(), REFERRAL_STATUS_QUALIFIED);  // the referrer's award is pending
  r.mutable_referrer()->set_award(v1::STEP_STATE_DONE);
  env.referrals->RewardIfPaid(txn, r);
  env.referrals->Touch(txn, r);
  EXPECT_EQ(r.status(), REFERRAL_STATUS_REWARDED);
  EXPECT_TRUE(env.referrals->work().empty());
}

TEST_F(ReferralBookTest, ReversingPutsAReversalOnEveryBonusPaidOrBeingPaid) {
  Txn txn;
  v1::Referral& r = env.NewReferral(txn, "rf1", "alice", "bob");
  env.referrals->Qualify(txn, r);
  r.mutable_referrer()->set_award(v1::STEP_STATE_DONE);
  r.mutable_invitee()->set_award(v1::STEP_STATE_FAILED);
  env.referrals->Reverse(txn, r, "rf-1");
  EXPECT_EQ(r.status(), REFERRAL_STATUS_REVERSED);
  EXPECT_EQ(r.refund_id(), "rf-1");
  EXPECT_EQ(r.referrer().reversal(), v1::STEP_STATE_PENDING);
  EXPECT_EQ(r.invitee().reversal(), v1::STEP_STATE_NONE);
}

TEST_F(ReferralBookTest, RejectingAHeldReferralUnlistsItAndTellsTheInvitee) {
  Txn txn;
  v1::Referral& r = env.NewReferral(txn, "rf1", "alice", "bob");
  env.referrals->Hold(txn, r, "same_store", "detail");
  env.referrals->Reject(txn, r, "operator", "rejected by ops");
  env.Commit(txn);
  EXPECT_FALSE(env.Has(cf::kHeld, "rf1"));
  auto events = env.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].member_id(), "bob");
  EXPECT_EQ(events[0].referral_rejected().reason(), "operator");
}

TEST_F(ReferralBookTest, ListsAReferrersReferralsOldestFirstInPages) {
  Txn txn;
  for (int i = 0; i < 3; ++i) {
    env.NewReferral(txn, "rf" + std::to_string(i), "alice", "m" + std::to_string(i));
    env.clock.Advance(1000);
  }
  env.NewReferral(txn, "other", "carol", "m9");
  env.Commit(txn);
  EXPECT_EQ(env.referrals->IdsOfReferrer("alice"), (std::vector<std::string>{"rf0", "rf1", "rf2"}));
  auto from = env.referrals->PageStart("alice", "");
  ASSERT_TRUE(from.ok());
  auto page = env.referrals->ListOfReferrer("alice", *from, 2);
  ASSERT_EQ(page.referrals_size(), 2);
  EXPECT_EQ(page.next_page_token(), "rf1");
  auto next = env.referrals->PageStart("alice", page.next_page_token());
  ASSERT_TRUE(next.ok());
  page = env.referrals->ListOfReferrer("alice", *next, 2);
  ASSERT_EQ(page.referrals_size(), 1);
  EXPECT_EQ(page.referrals(0).referral_id(), "rf2");
  EXPECT_EQ(page.next_page_token(), "");
  EXPECT_FALSE(env.referrals->PageStart("alice", "other").ok());  // carol's, not alice's
}

using ReferralBookDeathTest = ReferralBookTest;

TEST_F(ReferralBookDeathTest, AMoveTheMachineDoesNotAllowStopsTheProcess) {
  Txn txn;
  v1::Referral& r = env.NewReferral(txn, "rf1", "alice", "bob");
  env.referrals->Expire(txn, r, "no purchase");
  EXPECT_DEATH(env.referrals->Hold(txn, r, "same_store", ""), "invariant violated");
}

TEST_F(ReferralBookDeathTest, ABonusIsNeverMadeDueTwice) {
  Txn txn;
  v1::Referral& r = env.NewReferral(txn, "rf1", "alice", "bob");
  env.referrals->Qualify(txn, r);
  r.set_status(REFERRAL_STATUS_HELD);  // as if something had moved it back
  EXPECT_DEATH(env.referrals->Qualify(txn, r), "invariant violated");
}

}  // namespace
}  // namespace loyalty::referral
