// Prize draws: reproducible from the stored seed and entrants, independent of the entrants'
// order, and the winners get the reward without paying points.
#include <gtest/gtest.h>

#include "services/redemption/core/prize_draw.h"
#include "tests/support/test_caller.h"
#include "tests/unit/redemption/test_env.h"

namespace loyalty::redemption {
namespace {

TEST(PrizeDrawTest, HashIsSha256OfSortedDistinctEntrants) {
  // sha256("a\nb\nc")
  EXPECT_EQ(EntrantsHash(CanonicalEntrants({"c", "a", "b", "a"})), Sha256Hex("a\nb\nc"));
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(PrizeDrawTest, WinnersDependOnlyOnSeedAndEntrantSet) {
  std::vector<std::string> entrants;
  for (int i = 0; i < 1000; ++i) entrants.push_back("m" + std::to_string(i));
  auto canonical = CanonicalEntrants(entrants);
  std::vector<std::string> reversed(entrants.rbegin(), entrants.rend());
  auto a = DrawWinners("seed-1", canonical, 10);
  auto b = DrawWinners("seed-1", CanonicalEntrants(reversed), 10);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::set<std::string>(a.begin(), a.end()).size(), 10u);
  EXPECT_NE(a, DrawWinners("seed-2", canonical, 10));
  // Every entrant can win: over many seeds, each of 5 entrants wins a single-winner draw.
  std::map<std::string, int> wins;
  auto five = CanonicalEntrants({"a", "b", "c", "d", "e"});
  for (int s = 0; s < 500; ++s) ++wins[DrawWinners(std::to_string(s), five, 1)[0]];
  EXPECT_EQ(wins.size(), 5u);
  for (auto& [who, n] : wins) EXPECT_GT(n, 60) << who;
}

TEST(PrizeDrawTest, WinnersGetTheRewardFreeAndTheDrawIsStored) {
  RedemptionTestEnv env;
  env.CreateReward(RedemptionTestEnv::GiftCard("prize", 5'000, 3));
  v1::RunPrizeDrawRequest request;
  request.set_reward_id("prize");
  for (auto id : {"m1", "m2", "m3", "m4", "m2"}) request.add_entrants(id);
  request.set_winners(2);
  request.set_seed("october");
  request.set_idempotency_key("d1");
  auto draw = env.core->RunPrizeDraw(kTestCaller, request);
  ASSERT_TRUE(draw.ok()) << draw.status().ToString();
  EXPECT_EQ(draw->entrants_count(), 4);
  EXPECT_EQ(draw->entrants_hash(), Sha256Hex("m1\nm2\nm3\nm4"));
  auto expected = DrawWinners("october", CanonicalEntrants({"m1", "m2", "m3", "m4"}), 2);
  EXPECT_EQ(std::vector<std::string>(draw->winners().begin(), draw->winners().end()), expected);
  ASSERT_EQ(draw->redemption_ids_size(), 2);
  auto won = env.core->GetRedemption(draw->redemption_ids(0));
  ASSERT_TRUE(won.ok());
  EXPECT_EQ(won->points(), 0);
  EXPECT_EQ(won->state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(won->vouchers_size(), 1);
  EXPECT_EQ(won->draw_id(), draw->draw_id());
  EXPECT_EQ(env.accrual.calls("HoldPoints"), 0);
  EXPECT_EQ(env.core->GetReward("prize")->stock_used(), 2);
  EXPECT_EQ(env.core->GetPrizeDraw(draw->draw_id())->seed(), "october");
  int won_events = 0;
  for (const auto& e : env.Events()) won_events += e.has_prize_draw_won();
  EXPECT_EQ(won_events, 2);

  request.set_idempotency_key("d2");
  request.set_winners(2);  // only one unit left
  EXPECT_EQ(env.core->RunPrizeDraw(kTestCaller, request).status().message().rfind("winners:", 0),
            0u);
  request.set_winners(9);
  EXPECT_EQ(env.core->RunPrizeDraw(kTestCaller, request).status().code(), Code::kInvalidArgument);
  request.clear_entrants();
  request.set_winners(1);
  EXPECT_EQ(env.core->RunPrizeDraw(kTestCaller, request).status().message().rfind("entrants:", 0),
            0u);
}

}  // namespace
}  // namespace loyalty::redemption
