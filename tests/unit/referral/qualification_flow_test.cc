// The qualification flow against a real store: which events it ignores, dedupe by accrual's
// sequence and by event id, the first qualifying purchase (too small, too late, at the
// referrer's store), and refunds inside and outside the return window.
#include "services/referral/core/qualification_flow.h"

#include <gtest/gtest.h>

#include "tests/unit/referral/module_env.h"

namespace loyalty::referral {
namespace {

class QualificationFlowTest : public ::testing::Test {
 protected:
  QualificationFlowTest() : flow(*env.store, env.clock, env.config, *env.members, *env.referrals) {
    Txn txn;
    referral = &env.NewReferral(txn, "rf1", "alice", "bob");
    MemberState& bob = env.members->GetOrCreate(txn, "bob");
    bob.set_referral_id("rf1");
    MemberState& alice = env.members->GetOrCreate(txn, "alice");
    alice.set_referrals_made(1);
    env.Commit(txn);
  }

  EventCmd Purchase(const std::string& member, const std::string& purchase_id, int64_t amount,
                    const std::string& store_id = "s1", int64_t at_ms = -1) {
    EventCmd cmd = Event(member, at_ms);
    auto* earned = cmd.event.mutable_points_earned();
    earned->set_purchase_id(purchase_id);
    earned->set_store_id(store_id);
    earned->mutable_breakdown()->set_amount_minor(amount);
    return cmd;
  }
  EventCmd Refund(const std::string& member, const std::string& purchase_id, int64_t at_ms) {
    EventCmd cmd = Event(member, at_ms);
    cmd.event.mutable_points_reversed()->set_refund_id("refund-" + purchase_id);
    cmd.event.mutable_points_reversed()->set_purchase_id(purchase_id);
    return cmd;
  }
  EventCmd Event(const std::string& member, int64_t at_ms) {
    EventCmd cmd;
    cmd.event.set_member_id(member);
    cmd.event.set_event_id(member + ":" + std::to_string(++seq_[member]));
    cmd.event.set_source_service("accrual");
    cmd.event.set_occurred_at_ms(at_ms < 0 ? env.clock.NowMs() : at_ms);
    return cmd;
  }
  EventBatchResult Apply(const std::vector<EventCmd>& cmds) {
    EventBatch batch;
    Txn txn;
    for (const auto& cmd : cmds) flow.Apply(txn, cmd, batch);
    env.Commit(txn);
    return batch.result;
  }

  ModuleEnv env;
  QualificationFlow flow;
  v1::Referral* referral = nullptr;
  std::map<std::string, int64_t> seq_;
};

TEST_F(QualificationFlowTest, OtherMembersOwnEventsAndOtherKindsAreIgnored) {
  EventCmd own = Purchase("bob", "p1", 50'000);
  own.event.set_source_service("referral");
  EventCmd other_kind = Event("bob", -1);
  other_kind.event.mutable_referral_qualified();
  EventBatchResult result = Apply({Purchase("stranger", "p0", 50'000), own, other_kind});
  EXPECT_EQ(result.ignored, 3);
  EXPECT_EQ(referral->status(), v1::REFERRAL_STATUS_PENDING);
}

TEST_F(QualificationFlowTest, TheFirstQualifyingPurchaseQualifiesOnceAndRepeatsAreDuplicates) {
  EventCmd small = Purchase("bob", "p-small", 5'000);
  EventCmd big = Purchase("bob", "p-big", 20'000);
  EventBatchResult result = Apply({small, big, big});
  EXPECT_EQ(result.applied, 2);
  EXPECT_EQ(result.duplicates, 1);  // by sequence
  EXPECT_EQ(referral->status(), v1::REFERRAL_STATUS_QUALIFIED);
  EXPECT_EQ(referral->purchase_id(), "p-big");
  EXPECT_EQ(referral->return_window_ends_at_ms(), env.clock.NowMs() + 30 * kDayMs);
  EXPECT_EQ(Apply({Purchase("bob", "p-next", 90'000)}).applied, 1);
  EXPECT_EQ(referral->purchase_id(), "p-big");
}

TEST_F(QualificationFlowTest, EventsWithoutASequenceAreDedupedByIdInTheBatchAndAfter) {
  EventCmd odd = Purchase("bob", "p-small", 1'000);
  odd.event.set_event_id("imported-7");
  EventBatchResult result = Apply({odd, odd});
  EXPECT_EQ(result.applied, 1);
  EXPECT_EQ(result.duplicates, 1);
  EXPECT_TRUE(env.Has(cf::kDedupe, "imported-7"));
  EXPECT_EQ(Apply({odd}).duplicates, 1);
}

TEST_F(QualificationFlowTest, APurchaseAfterTheWindowExpiresTheReferral) {
  int64_t late = referral->applied_at_ms() + 91 * kDayMs;
  Apply({Purchase("bob", "p1", 20'000, "s1", late)});
  EXPECT_EQ(referral->status(), v1::REFERRAL_STATUS_EXPIRED);
  EXPECT_EQ(referral->reason_detail(), "no qualifying purchase within 90 days");
}

TEST_F(QualificationFlowTest, AFirstPurchaseAtTheReferrersStoreIsHeld) {
  int64_t t = env.clock.NowMs();
  Apply({Purchase("alice", "pa", 1'000, "kyiv-01", t)});
  Apply({Purchase("bob", "pb", 20'000, "kyiv-01", t + 10 * kMinuteMs)});
  EXPECT_EQ(referral->status(), v1::REFERRAL_STATUS_HELD);
  EXPECT_EQ(referral->reason(), "same_store");
  EXPECT_EQ(referral->purchase_id(), "pb");
  EXPECT_TRUE(env.Has(cf::kHeld, "rf1"));
}

TEST_F(QualificationFlowTest, ARefundOfTheQualifyingPurchaseReversesOnlyWithinTheWindow) {
  int64_t t = env.clock.NowMs();
  Apply({Purchase("bob", "p1", 20'000, "s1", t)});
  Apply({Refund("bob", "another", t)});  // not the qualifying purchase
  EXPECT_EQ(referral->status(), v1::REFERRAL_STATUS_QUALIFIED);
  Apply({Refund("bob", "p1", t + 30 * kDayMs + 1)});  // after referral's own window
  EXPECT_EQ(referral->status(), v1::REFERRAL_STATUS_QUALIFIED);
  Apply({Refund("bob", "p1", t + 30 * kDayMs)});
  EXPECT_EQ(referral->status(), v1::REFERRAL_STATUS_REVERSED);
  EXPECT_EQ(referral->refund_id(), "refund-p1");
}

}  // namespace
}  // namespace loyalty::referral
