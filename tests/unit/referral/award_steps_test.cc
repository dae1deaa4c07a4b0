// The award saga's steps against a real store and the fake accrual: which steps are due,
// the calls and their idempotency keys, outcomes recorded (done, failed for good, left
// pending on an unknown outcome), and that a bonus is recorded as paid at most once.
#include "services/referral/core/award_steps.h"

#include <gtest/gtest.h>

#include "common/accrual_retry.h"
#include "tests/support/fake_accrual.h"
#include "tests/unit/referral/module_env.h"

namespace loyalty::referral {
namespace {

class AwardStepsTest : public ::testing::Test {
 protected:
  AwardStepsTest() : steps(*env.referrals, *env.members) {
    accrual.AddMember("alice", 0);
    accrual.AddMember("bob", 0);
    Txn txn;
    referral = &env.NewReferral(txn, "rf1", "alice", "bob");
    referral->set_purchase_id("p1");
    env.referrals->Qualify(txn, *referral);
    env.Commit(txn);
  }

  // Runs every due step once, as ReferralCore::RunPendingSteps does.
  StepsResult RunAll() {
    StepsResult result;
    for (const Step& step : steps.Due()) {
      Status status = AwardSteps::Perform(accrual, step);
      if (ShouldRetryAccrualCall(status)) {
        ++result.retrying;
        continue;
      }
      Txn txn;
      EXPECT_TRUE(steps.Record(txn, step, status, result));
      env.Commit(txn);
    }
    return result;
  }

  ModuleEnv env;
  testing::FakeAccrual accrual{env.clock};
  AwardSteps steps;
  v1::Referral* referral = nullptr;
};

TEST_F(AwardStepsTest, AQualifiedReferralDuesBothAwardsWithKeysOfTheReferralAndRole) {
  std::vector<Step> due = steps.Due();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_TRUE(due[0].referrer);
  EXPECT_EQ(due[0].member_id, "alice");
  EXPECT_EQ(due[0].points, Points(500));
  EXPECT_EQ(due[0].idempotency_key(), "referral:rf1:referrer");
  EXPECT_EQ(due[0].reason, "referral bonus: bob joined with your code");
  EXPECT_EQ(due[1].idempotency_key(), "referral:rf1:invitee");
  EXPECT_EQ(due[1].reason, "referral bonus: joined with the code of alice");
}

TEST_F(AwardStepsTest, PaidStepsAreDoneOnceAndTheReferralIsRewarded) {
  StepsResult result = RunAll();
  EXPECT_EQ(result.done, 2);
  EXPECT_EQ(referral->status(), v1::REFERRAL_STATUS_REWARDED);
  EXPECT_TRUE(env.referrals->work().empty());
  EXPECT_TRUE(steps.Due().empty());
  EXPECT_EQ(accrual.awarded("referral"), 750);
  int rewarded = 0;
  for (const auto& e : env.Events()) rewarded += e.has_referral_rewarded();
  EXPECT_EQ(rewarded, 2);
}

TEST_F(AwardStepsTest, AnUnknownOutcomeLeavesTheStepPendingAndARepeatPaysOnce) {
  accrual.LoseAnswer("AwardPoints", 1);  // applied, answer lost
  StepsResult first = RunAll();
  EXPECT_EQ(first.retrying, 1);
  EXPECT_EQ(first.done, 1);
  EXPECT_EQ(referral->referrer().award(), v1::STEP_STATE_PENDING);
  StepsResult second = RunAll();
  EXPECT_EQ(second.done, 1);
  EXPECT_EQ(accrual.awarded("referral"), 750);  // the same key: accrual paid once
  EXPECT_EQ(referral->status(), v1::REFERRAL_STATUS_REWARDED);
}

TEST_F(AwardStepsTest, ARefusalFailsTheStepForGoodAndCancelsItsReversal) {
  accrual.SetStatus("bob", v1::MEMBER_STATUS_ERASED);
  Txn txn;
  env.referrals->Reverse(txn, *referral, "refund-1");  // while both awards are pending
  env.Commit(txn);
  StepsResult result = RunAll();
  EXPECT_EQ(result.failed, 1);
  EXPECT_EQ(referral->invitee().award(), v1::STEP_STATE_FAILED);
  EXPECT_EQ(referral->invitee().reversal(), v1::STEP_STATE_NONE);
  EXPECT_FALSE(referral->invitee().detail().empty());
  // The referrer's award was paid; its reversal is due next, with its own key.
  std::vector<Step> due = steps.Due();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(due[0].reverse);
  EXPECT_EQ(due[0].idempotency_key(), "referral:rf1:referrer:reverse");
  EXPECT_EQ(due[0].reason, "referral rf1 reversed: refund refund-1 of purchase p1");
  EXPECT_EQ(RunAll().done, 1);
  EXPECT_EQ(referral->referrer().reversal(), v1::STEP_STATE_DONE);
}

using AwardStepsDeathTest = AwardStepsTest;

TEST_F(AwardStepsDeathTest, RecordingAPaidBonusAgainStopsTheProcess) {
  Step step = steps.Due()[0];
  StepsResult result;
  Txn txn;
  steps.Record(txn, step, Status::Ok(), result);
  EXPECT_DEATH(steps.Record(txn, step, Status::Ok(), result), "invariant violated");
}

}  // namespace
}  // namespace loyalty::referral
