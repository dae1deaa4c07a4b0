// The catalog: validation naming the field, updates that respect the stock already used, and
// ListRewards showing a member only what they may redeem now, cheapest first, with
// affordability.
#include <gtest/gtest.h>

#include "tests/support/test_caller.h"
#include "tests/unit/redemption/test_env.h"

namespace loyalty::redemption {
namespace {

std::string FieldOf(const Status& s) { return s.message().substr(0, s.message().find(':')); }

TEST(CatalogTest, BadRewardsAreRefusedWithTheFieldNamed) {
  RedemptionTestEnv env;
  auto check = [&](v1::Reward r, const std::string& field) {
    v1::CreateRewardRequest request;
    *request.mutable_reward() = r;
    request.set_idempotency_key("k-" + field);
    auto result = env.core->CreateReward(kTestCaller, request);
    EXPECT_EQ(result.status().code(), Code::kInvalidArgument) << field;
    EXPECT_EQ(FieldOf(result.status()), field) << result.status().message();
  };
  auto good = RedemptionTestEnv::GiftCard("gc", 100, 5);
  auto r = good;
  r.clear_name();
  check(r, "reward.name");
  r = good;
  r.set_points_price(0);
  check(r, "reward.points_price");
  r = good;
  r.set_kind(v1::REWARD_KIND_UNSPECIFIED);
  check(r, "reward.kind");
  r = good;
  r.set_kind(v1::REWARD_KIND_DISCOUNT);
  check(r, "reward.discount");
  r.mutable_discount()->set_amount_minor(100);
  r.mutable_discount()->set_percent_bp(500);
  check(r, "reward.discount.amount_minor");
  r.mutable_discount()->set_amount_minor(0);
  r.mutable_discount()->set_percent_bp(20000);
  check(r, "reward.discount.percent_bp");
  r = good;
  r.set_kind(v1::REWARD_KIND_FREE_PRODUCT);
  check(r, "reward.free_product.sku");
  r = good;
  r.set_stock_total(-1);
  check(r, "reward.stock_total");
  r = good;
  r.set_valid_from_ms(2000);
  r.set_valid_until_ms(1000);
  check(r, "reward.valid_until_ms");
  r = good;
  r.mutable_visibility()->set_audience(v1::AUDIENCE_TIERS);
  check(r, "reward.visibility.values");
  r = good;
  r.set_currency("EUR");
  check(r, "reward.currency");
  v1::CreateRewardRequest no_key;
  *no_key.mutable_reward() = good;
  EXPECT_EQ(FieldOf(env.core->CreateReward(kTestCaller, no_key).status()), "idempotency_key");
  EXPECT_EQ(env.core->GetReward("missing").status().code(), Code::kNotFound);
}

TEST(CatalogTest, CreateIsIdempotentAndUpdateKeepsTheStockUsed) {
  RedemptionTestEnv env;
  env.accrual.AddMember("m1", 1'000);
  v1::CreateRewardRequest create;
  *create.mutable_reward() = RedemptionTestEnv::GiftCard("gc", 100, 5);
  create.set_idempotency_key("c1");
  ASSERT_TRUE(env.core->CreateReward(kTestCaller, create).ok());
  ASSERT_TRUE(env.core->CreateReward(kTestCaller, create).ok());  // a retry
  create.set_idempotency_key("c2");
  EXPECT_EQ(env.core->CreateReward(kTestCaller, create).status().code(), Code::kAlreadyExists);
  ASSERT_TRUE(env.Redeem("m1", "gc", 3, "r1").ok());

  v1::UpdateRewardRequest update;
  *update.mutable_reward() = RedemptionTestEnv::GiftCard("gc", 200, 2);
  update.set_idempotency_key("u1");
  auto refused = env.core->UpdateReward(kTestCaller, update);
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(FieldOf(refused.status()), "reward.stock_total");
  update.mutable_reward()->set_stock_total(4);
  update.set_idempotency_key("u2");
  auto updated = env.core->UpdateReward(kTestCaller, update);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->stock_used(), 3);
  EXPECT_EQ(updated->points_price(), 200);
  env.Restart();
  EXPECT_EQ(env.core->GetReward("gc")->stock_used(), 3);
  EXPECT_EQ(env.core->GetReward("gc")->points_price(), 200);
}

TEST(CatalogTest, ListRewardsShowsWhatTheMemberMayRedeemNowCheapestFirst) {
  RedemptionTestEnv env;
  env.accrual.AddMember("m1", 500, "Silver");
  auto plain = RedemptionTestEnv::GiftCard("plain", 300, 10);
  auto dear = RedemptionTestEnv::GiftCard("dear", 900, 10);
  auto gold = RedemptionTestEnv::GiftCard("gold-only", 100, 10);
  gold.mutable_visibility()->set_audience(v1::AUDIENCE_TIERS);
  gold.mutable_visibility()->add_values("Gold");
  auto silver = RedemptionTestEnv::GiftCard("silver", 200, 10);
  silver.mutable_visibility()->set_audience(v1::AUDIENCE_TIERS);
  silver.mutable_visibility()->add_values("Silver");
  silver.mutable_visibility()->add_values("Gold");
  auto mine = RedemptionTestEnv::GiftCard("mine", 50, 10);
  mine.mutable_visibility()->set_audience(v1::AUDIENCE_MEMBERS);
  mine.mutable_visibility()->add_values("m1");
  auto theirs = RedemptionTestEnv::GiftCard("theirs", 50, 10);
  theirs.mutable_visibility()->set_audience(v1::AUDIENCE_MEMBERS);
  theirs.mutable_visibility()->add_values("m2");
  auto students = RedemptionTestEnv::GiftCard("students", 60, 10);
  students.mutable_visibility()->set_audience(v1::AUDIENCE_SEGMENTS);
  students.mutable_visibility()->add_values("students");
  auto sold_out = RedemptionTestEnv::GiftCard("sold-out", 10, 0);
  auto later = RedemptionTestEnv::GiftCard("later", 10, 10);
  later.set_valid_from_ms(env.clock.NowMs() + kDayMs);
  auto inactive = RedemptionTestEnv::GiftCard("inactive", 10, 10);
  inactive.set_active(false);
  for (auto& r : {plain, dear, gold, silver, mine, theirs, students, sold_out, later, inactive}) {
    env.CreateReward(r);
  }
  auto ids = [&] {
    v1::ListRewardsRequest request;
    request.set_member_id("m1");
    auto listed = env.core->ListRewards(request);
    EXPECT_TRUE(listed.ok());
    std::vector<std::string> out;
    for (const auto& o : listed->offers()) out.push_back(o.reward().reward_id());
    return out;
  };
  EXPECT_EQ(ids(), (std::vector<std::string>{"mine", "silver", "plain", "dear"}));

  env.accrual.SetSegments("m1", {"students"});  // segments are accrual's
  env.clock.Advance(kDayMs);
  EXPECT_EQ(ids(),
            (std::vector<std::string>{"later", "mine", "students", "silver", "plain", "dear"}));

  v1::ListRewardsRequest request;
  request.set_member_id("m1");
  auto listed = env.core->ListRewards(request);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->tier(), "Silver");
  const auto& last = listed->offers(listed->offers_size() - 1);
  EXPECT_FALSE(last.affordable());
  EXPECT_EQ(last.points_short(), 400);
  EXPECT_TRUE(listed->offers(0).affordable());

  // A tier-only reward is refused to other tiers on redemption too.
  auto refused = env.Redeem("m1", "gold-only", 1, "k");
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(FieldOf(refused.status()), "reward_id");
  request.set_member_id("nobody");
  EXPECT_EQ(env.core->ListRewards(request).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace loyalty::redemption
