#include "services/accrual/core/hold_book.h"

#include <gtest/gtest.h>

#include "services/accrual/core/lot_book.h"
#include "tests/unit/accrual/module_env.h"

namespace loyalty::accrual {
namespace {

class HoldBookTest : public ::testing::Test {
 protected:
  HoldBookTest() : holds(*env.store, *env.members, *env.ledger, env.clock) {
    Txn txn;
    member = &env.NewMember(txn, "m1");
    Posting credit = CreditPosting(v1::LEDGER_KIND_AWARD, member->member().balance(), Points(100));
    v1::LoyaltyEvent event;
    event.mutable_points_awarded();
    env.ledger->Post(txn, *member, std::move(credit), std::move(event));
    Commit(txn);
  }

  // Holds are read back from the store by id: make each step durable.
  void Commit(Txn& txn) { env.Commit(txn); }

  v1::Hold Open(int64_t points, int64_t ttl_seconds = 60) {
    Txn txn;
    auto hold = holds.Open(txn, *member, Points(points), Seconds(ttl_seconds), "order-1");
    EXPECT_TRUE(hold.ok()) << hold.status().ToString();
    Commit(txn);
    return *hold;
  }

  const v1::Balance& balance() const { return member->member().balance(); }

  ModuleEnv env;
  HoldBook holds;
  MemberRecord* member = nullptr;
};

TEST_F(HoldBookTest, OpenReservesAndCaptureSpendsPartOfTheHoldAndGivesTheRestBack) {
  v1::Hold hold = Open(60);
  EXPECT_EQ(balance().available(), 40);
  EXPECT_EQ(balance().held(), 60);
  EXPECT_EQ(holds.open_count(), 1);

  Txn txn;
  bool expired = false;
  auto captured = holds.Capture(txn, hold.hold_id(), Points(25), expired);
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  Commit(txn);
  EXPECT_EQ(captured->status(), v1::HOLD_STATUS_CAPTURED);
  EXPECT_EQ(captured->captured(), 25);
  EXPECT_EQ(balance().available(), 75);
  EXPECT_EQ(balance().held(), 0);
  EXPECT_EQ(balance().lifetime_spent(), 25);
  EXPECT_EQ(LotBook::Total(*member), Points(75));
  EXPECT_EQ(holds.open_count(), 0);
}

TEST_F(HoldBookTest, AHoldEndsOnceWhicheverWayItEnds) {
  v1::Hold hold = Open(30);
  Txn txn;
  ASSERT_TRUE(holds.Void(txn, hold.hold_id()).ok());
  Commit(txn);
  EXPECT_EQ(balance().available(), 100);
  Txn again;
  bool expired = false;
  auto capture = holds.Capture(again, hold.hold_id(), Points(0), expired);
  EXPECT_EQ(capture.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(holds.Void(again, hold.hold_id()).status().code(), Code::kFailedPrecondition);
}

TEST_F(HoldBookTest, MoreThanAvailableIsRefusedAndCapturingMoreThanHeldIsBadInput) {
  Txn txn;
  auto refused = holds.Open(txn, *member, Points(101), Seconds(60), "");
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  v1::Hold hold = Open(10);
  bool expired = false;
  Txn capture;
  EXPECT_EQ(holds.Capture(capture, hold.hold_id(), Points(11), expired).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(holds.Load("nope").status().code(), Code::kNotFound);
}

TEST_F(HoldBookTest, ExpiredHoldsGiveTheirPointsBackAndCannotBeCaptured) {
  v1::Hold hold = Open(50, /*ttl_seconds=*/60);
  env.clock.Advance(61 * kSecondMs);
  Txn capture;
  bool expired_now = false;
  EXPECT_EQ(holds.Capture(capture, hold.hold_id(), Points(0), expired_now).status().code(),
            Code::kFailedPrecondition);
  EXPECT_TRUE(expired_now);
  Txn txn;
  EXPECT_EQ(holds.ExpireDue(txn, TimeMs(env.clock.NowMs())), 1);
  Commit(txn);
  EXPECT_EQ(balance().available(), 100);
  EXPECT_EQ(balance().held(), 0);
  EXPECT_EQ(holds.Load(hold.hold_id())->status(), v1::HOLD_STATUS_EXPIRED);
}

TEST_F(HoldBookTest, TheOpenIndexIsRebuiltFromTheStore) {
  Open(10);
  Open(20);
  HoldBook reopened(*env.store, *env.members, *env.ledger, env.clock);
  EXPECT_EQ(reopened.open_count(), 2);
}

}  // namespace
}  // namespace loyalty::accrual
