#include "services/accrual/core/ledger.h"

#include <gtest/gtest.h>

#include "services/accrual/core/lot_book.h"
#include "tests/unit/accrual/module_env.h"

namespace loyalty::accrual {
namespace {

v1::LoyaltyEvent Awarded(int64_t points) {
  v1::LoyaltyEvent event;
  event.mutable_points_awarded()->set_points(points);
  return event;
}

Posting Award(const MemberRecord& member, int64_t points) {
  Posting posting = CreditPosting(v1::LEDGER_KIND_AWARD, member.member().balance(), Points(points));
  posting.reason = "test award";
  posting.source_id = "t";
  return posting;
}

TEST(LedgerTest, ACreditAddsToAvailableInATodayLotAndRecordsTheEntryAndEvent) {
  ModuleEnv env;
  Txn txn;
  MemberRecord& member = env.NewMember(txn, "m1");
  Ledger::Posted posted = env.ledger->Post(txn, member, Award(member, 100), Awarded(100));
  env.Commit(txn);

  const v1::Balance& balance = member.member().balance();
  EXPECT_EQ(balance.available(), 100);
  EXPECT_EQ(balance.lifetime_earned(), 100);
  EXPECT_EQ(LotBook::Total(member), Points(100));
  EXPECT_EQ(posted.entry.available_delta(), 100);
  EXPECT_EQ(posted.entry.sequence(), 1);
  EXPECT_EQ(posted.entry.balance_after().available(), 100);
  ASSERT_EQ(txn.facts.size(), 1u);
  EXPECT_EQ(txn.facts[0].points, 100);

  auto entries = env.Entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].reason(), "test award");
  auto events = env.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_id(), "m1:1");
  EXPECT_EQ(events[0].sequence(), 1);
  EXPECT_EQ(events[0].source_service(), "accrual");
  EXPECT_EQ(events[0].points_awarded().balance().available(), 100);  // the balance after
}

TEST(LedgerTest, ACreditRepaysDebtFirst) {
  ModuleEnv env;
  Txn txn;
  MemberRecord& member = env.NewMember(txn, "m1");
  Posting debit = DebitPosting(v1::LEDGER_KIND_ADJUST, member.member().balance(), Points(30));
  EXPECT_EQ(debit.available, Points(0));
  EXPECT_EQ(debit.debt, Points(30));
  env.ledger->Post(txn, member, std::move(debit), v1::LoyaltyEvent());

  Posting credit = Award(member, 50);
  EXPECT_EQ(credit.repaid(), Points(30));
  EXPECT_EQ(credit.available, Points(20));
  Ledger::Posted posted = env.ledger->Post(txn, member, std::move(credit), Awarded(50));
  // The entry says how much of the credit went to the debt (docs/decisions.md).
  EXPECT_EQ(posted.entry.reason(), "test award; +50, of which 30 repaid debt");
  EXPECT_EQ(member.member().balance().debt(), 0);
  EXPECT_EQ(member.member().balance().available(), 20);
  EXPECT_EQ(member.member().balance().lifetime_earned(), 50);
  EXPECT_EQ(LotBook::Total(member), Points(20));
}

AccrualConfig RollingExpiry() {
  AccrualConfig config;
  config.expiry = ExpiryPolicy::kRolling;
  config.expiry_days = 365;
  config.expiry_remind_days = 30;
  return config;
}

TEST(LedgerTest, ADebitTakesTheOldestLotsAndReportsTheSlices) {
  ModuleEnv env(RollingExpiry());
  Txn txn;
  MemberRecord& member = env.NewMember(txn, "m1");
  env.ledger->Post(txn, member, Award(member, 40), Awarded(40));
  env.clock.Advance(2 * kDayMs);  // another day, another lot under rolling expiry
  env.ledger->Post(txn, member, Award(member, 40), Awarded(40));
  ASSERT_EQ(member.lots_size(), 2);
  Posting hold;
  hold.kind = v1::LEDGER_KIND_HOLD;
  hold.available = Points(-50);
  hold.held = Points(50);
  hold.lots = LotMove::kDebitOldest;
  Ledger::Posted posted = env.ledger->Post(txn, member, std::move(hold), v1::LoyaltyEvent());
  ASSERT_EQ(posted.taken.size(), 2u);
  EXPECT_EQ(posted.taken[0].points(), 40);
  EXPECT_EQ(posted.taken[0].expires_at_ms(), member.lots(0).expires_at_ms());
  EXPECT_EQ(posted.taken[1].points(), 10);
  EXPECT_EQ(member.member().balance().held(), 50);
  EXPECT_EQ(member.member().balance().available(), 30);
}

TEST(LedgerTest, ACreditSchedulesItsLotsExpiryAndReminderOnce) {
  ModuleEnv env(RollingExpiry());
  Txn txn;
  MemberRecord& member = env.NewMember(txn, "m1");
  env.ledger->Post(txn, member, Award(member, 10), Awarded(10));
  env.ledger->Post(txn, member, Award(member, 10), Awarded(10));  // the same day's lot
  env.Commit(txn);
  TimeMs expiry(member.lots(0).expires_at_ms());
  auto due = env.timers->DueBy(expiry, 100);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].kind, TimerKind::kRemindLot);
  EXPECT_EQ(due[1].kind, TimerKind::kExpireLot);
  EXPECT_EQ(due[1].due, expiry);

  env.clock.Set(expiry.value());
  Txn expire;
  for (const auto& timer : due) env.timers->Run(expire, timer, &member);
  EXPECT_EQ(member.member().balance().available(), 0);
  EXPECT_EQ(member.member().balance().lifetime_expired(), 20);
  EXPECT_EQ(member.lots_size(), 0);
}

TEST(LedgerDeathTest, APostingThatWouldMakeABalanceNegativeStopsTheProcess) {
  ModuleEnv env;
  Txn txn;
  MemberRecord& member = env.NewMember(txn, "m1");
  Posting overdraw;
  overdraw.kind = v1::LEDGER_KIND_ADJUST;
  overdraw.held = Points(-1);
  EXPECT_DEATH(env.ledger->Post(txn, member, std::move(overdraw), v1::LoyaltyEvent()),
               "invariant violated");
}

TEST(LedgerDeathTest, AnAvailableChangeThatDoesNotMeetTheLotsStopsTheProcess) {
  ModuleEnv env;
  Txn txn;
  MemberRecord& member = env.NewMember(txn, "m1");
  Posting no_lot;
  no_lot.kind = v1::LEDGER_KIND_ADJUST;
  no_lot.available = Points(5);  // lots = kNone: the lots would no longer sum to available
  EXPECT_DEATH(env.ledger->Post(txn, member, std::move(no_lot), v1::LoyaltyEvent()),
               "invariant violated");
}

TEST(GrossPointsTest, EachKindReportsThePointsItIsAbout) {
  v1::LedgerEntry capture;
  capture.set_kind(v1::LEDGER_KIND_CAPTURE);
  capture.set_held_delta(-100);
  capture.set_available_delta(40);  // 60 spent, 40 back
  EXPECT_EQ(GrossPoints(capture), Points(60));
  v1::LedgerEntry clawback;
  clawback.set_kind(v1::LEDGER_KIND_CLAWBACK);
  clawback.set_pending_delta(-10);
  clawback.set_available_delta(-5);
  clawback.set_debt_delta(3);
  EXPECT_EQ(GrossPoints(clawback), Points(18));
}

}  // namespace
}  // namespace loyalty::accrual
