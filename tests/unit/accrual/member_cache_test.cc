// Accrual with a member cache far smaller than its members: every record is read back from
// the store many times, and the balances, ledgers and holds must be exactly those of a core
// that keeps every member in memory.
#include <gtest/gtest.h>

#include "tests/unit/accrual/test_env.h"

namespace loyalty::accrual {
namespace {

constexpr int kMembers = 300;

std::string MemberId(int i) { return "m" + std::to_string(i); }

// Enrols, buys in Kafka batches that revisit members, awards, holds and captures, reads.
void RunWorkload(AccrualTestEnv& env) {
  for (int i = 0; i < kMembers; ++i) {
    env.Enroll(MemberId(i), "+38067" + std::to_string(1'000'000 + i));
  }
  for (int batch = 0; batch < 6; ++batch) {
    std::vector<Input> inputs;
    for (int n = 0; n < 100; ++n) {
      int member = (batch * 37 + n * 7) % kMembers;
      std::string id = "p" + std::to_string(batch) + "-" + std::to_string(n);
      inputs.push_back(env.Purchase(id, MemberId(member), 10'000 + 100 * n));
    }
    ASSERT_EQ(env.core->ApplyBatch(inputs).purchases_applied, 100);
  }
  for (int i = 0; i < kMembers; i += 3) {
    v1::AwardPointsRequest award;
    award.set_member_id(MemberId(i));
    award.set_points(500 + i);
    award.set_reason("test");
    award.set_idempotency_key("award-" + std::to_string(i));
    ASSERT_TRUE(env.core->AwardPoints(kTestCaller, award).ok());
  }
  for (int i = 0; i < kMembers; i += 5) {
    v1::HoldPointsRequest hold;
    hold.set_member_id(MemberId(i));
    hold.set_points(100);
    hold.set_idempotency_key("hold-" + std::to_string(i));
    hold.set_capture(i % 2 == 0);
    ASSERT_TRUE(env.core->HoldPoints(kTestCaller, hold).ok()) << MemberId(i);
  }
}

TEST(MemberCacheTest, ASmallCacheGivesExactlyTheBalancesOfAnUnboundedOne) {
  AccrualConfig small;
  small.member_cache_bytes = 16 << 10;  // a few dozen records
  AccrualTestEnv bounded(small);
  AccrualTestEnv unbounded;
  RunWorkload(bounded);
  RunWorkload(unbounded);

  auto stats = bounded.core->MemberCacheStats();
  EXPECT_GT(stats.evictions, kMembers) << "records were read back from the store";
  EXPECT_LT(stats.entries, kMembers / 2);
  EXPECT_EQ(unbounded.core->MemberCacheStats().evictions, 0);
  for (int i = 0; i < kMembers; ++i) {
    v1::Balance b = bounded.Balance(MemberId(i));
    v1::Balance want = unbounded.Balance(MemberId(i));
    EXPECT_EQ(b.SerializeAsString(), want.SerializeAsString()) << MemberId(i);
    auto ledger = bounded.Ledger(MemberId(i));
    auto want_ledger = unbounded.Ledger(MemberId(i));
    ASSERT_EQ(ledger.size(), want_ledger.size()) << MemberId(i);
    for (size_t e = 0; e < ledger.size(); ++e) {
      EXPECT_EQ(ledger[e].kind(), want_ledger[e].kind()) << MemberId(i);
      EXPECT_EQ(ledger[e].available_delta(), want_ledger[e].available_delta()) << MemberId(i);
    }
    bounded.ExpectLedgerMatchesBalance(MemberId(i));
  }
  // Reads alone keep the cache within its budget too.
  EXPECT_LE(bounded.core->MemberCacheStats().bytes, small.member_cache_bytes + (4 << 10));
  EXPECT_EQ(bounded.core->OpenHolds(), unbounded.core->OpenHolds());
  bounded.Restart();
  EXPECT_EQ(bounded.Balance(MemberId(10)).SerializeAsString(),
            unbounded.Balance(MemberId(10)).SerializeAsString());
}

}  // namespace
}  // namespace loyalty::accrual
