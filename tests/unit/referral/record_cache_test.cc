// Referral with member and referral caches far smaller than its records: every record is
// read back from the store many times, and referrals, statistics, bonuses and events must
// be exactly those of a core whose caches hold everything.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/referral/test_env.h"

namespace loyalty::referral {
namespace {

constexpr int kPairs = 120;

std::string Referrer(int i) { return "r" + std::to_string(i); }
std::string Invitee(int i) { return "i" + std::to_string(i); }

// Referrers invite two members each; invitees buy (some too little), bystanders' events
// pass by, bonuses are paid, a few qualifying purchases are refunded. Returns the referral
// ids by invitee.
std::vector<std::string> RunWorkload(ReferralTestEnv& env) {
  for (int i = 0; i < kPairs; ++i) {
    env.Enroll(Referrer(i), "+38050" + std::to_string(1'000'000 + i));
    env.Enroll(Invitee(i), "+38067" + std::to_string(1'000'000 + i));
  }
  std::vector<std::string> referral_ids;
  for (int i = 0; i < kPairs; ++i) {
    auto r = env.Apply(Invitee(i), Referrer(i / 2));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    referral_ids.push_back(r.ok() ? r->referral_id() : "");
  }
  for (int round = 0; round < 3; ++round) {
    std::vector<InputMessage> batch;
    for (int i = 0; i < kPairs; ++i) {
      int64_t amount = (i + round) % 4 == 0 ? 5'000 : 20'000;
      batch.push_back(
          env.Purchase(Invitee(i), "p" + std::to_string(round) + "-" + std::to_string(i), amount));
      batch.push_back(
          env.Purchase("bystander" + std::to_string(i), "b" + std::to_string(i), 30'000));
    }
    env.Feed(batch);
    env.core->RunPendingSteps();
  }
  std::vector<InputMessage> refunds;
  for (int i = 0; i < kPairs; i += 7) {
    refunds.push_back(env.Refund(Invitee(i), "refund-" + std::to_string(i),
                                 env.Get(referral_ids[i]).purchase_id()));
  }
  env.Feed(refunds);
  env.core->RunPendingSteps();
  return referral_ids;
}

// What must match: everything but the generated id and time-derived fields.
std::string Comparable(v1::Referral r) {
  r.clear_referral_id();
  return r.SerializeAsString();
}

TEST(RecordCacheTest, SmallCachesGiveExactlyTheReferralsOfUnboundedOnes) {
  ReferralConfig small;
  small.member_cache_bytes = 8 << 10;
  small.referral_cache_bytes = 8 << 10;
  ReferralTestEnv bounded(small);
  ReferralTestEnv unbounded;
  auto bounded_ids = RunWorkload(bounded);
  auto unbounded_ids = RunWorkload(unbounded);

  EXPECT_GT(bounded.core->MemberCacheStats().evictions, kPairs);
  EXPECT_GT(bounded.core->ReferralCacheStats().evictions, kPairs);
  EXPECT_EQ(unbounded.core->MemberCacheStats().evictions, 0);
  EXPECT_EQ(unbounded.core->ReferralCacheStats().evictions, 0);
  int rewarded = 0;
  for (int i = 0; i < kPairs; ++i) {
    v1::Referral got = bounded.Get(bounded_ids[i]);
    EXPECT_EQ(Comparable(got), Comparable(unbounded.Get(unbounded_ids[i]))) << Invitee(i);
    if (got.status() == v1::REFERRAL_STATUS_REWARDED) ++rewarded;
  }
  EXPECT_GT(rewarded, kPairs / 2) << "the workload pays most bonuses";
  for (int i = 0; i < kPairs / 2; ++i) {
    auto got = bounded.core->GetReferralStats(Referrer(i));
    auto want = unbounded.core->GetReferralStats(Referrer(i));
    ASSERT_TRUE(got.ok() && want.ok()) << Referrer(i);
    EXPECT_EQ(got->SerializeAsString(), want->SerializeAsString()) << Referrer(i);
  }
  EXPECT_EQ(bounded.accrual.credited(), unbounded.accrual.credited());
  std::vector<std::string> got_events, want_events;
  for (const auto& e : bounded.Events()) got_events.push_back(e.event_id());
  for (const auto& e : unbounded.Events()) want_events.push_back(e.event_id());
  // The same events, ids and per-member sequences; the order across members follows the
  // generated referral ids, which differ.
  std::sort(got_events.begin(), got_events.end());
  std::sort(want_events.begin(), want_events.end());
  EXPECT_EQ(got_events, want_events);
  // Reads keep the caches within budget too (plus what one write group may hold).
  EXPECT_LE(bounded.core->MemberCacheStats().bytes, small.member_cache_bytes + (4 << 10));
  EXPECT_LE(bounded.core->ReferralCacheStats().bytes, small.referral_cache_bytes + (4 << 10));
}

TEST(RecordCacheTest, OnlyFollowedMembersEventsAreReadAfterARestartWithAColdCache) {
  ReferralTestEnv env;
  env.Enroll("alice", "+380501110001");
  env.Enroll("bob", "+380671110002");
  auto r = env.Apply("bob", "alice");
  ASSERT_TRUE(r.ok());
  env.Restart();  // nothing cached: followed is read from the store
  auto result = env.Feed({env.Purchase("carol", "pc", 50'000), env.Purchase("bob", "pb", 20'000)});
  EXPECT_EQ(result.ignored, 1);
  EXPECT_EQ(result.applied, 1);
  EXPECT_EQ(env.Get(r->referral_id()).status(), v1::REFERRAL_STATUS_QUALIFIED);
}

}  // namespace
}  // namespace loyalty::referral
