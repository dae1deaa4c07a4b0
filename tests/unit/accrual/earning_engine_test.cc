// The earning engine on the manual clock: tiers through a year, campaigns, partners,
// activities, pending points, expiry, milestones and simulation.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "services/accrual/core/rules.h"
#include "tests/unit/accrual/test_env.h"

namespace loyalty::accrual {
namespace {

AccrualConfig TwoTiers() {
  AccrualConfig config;
  config.tiers = {{"Bronze", 100, 0, 0, {"1%"}},
                  {"Silver", 200, 100'000, 5, {"2%"}},
                  {"Gold", 300, 300'000, 0, {"3%"}}};
  config.tier_window_days = 90;
  config.tier_review_days = 30;
  config.tier_grace_days = 10;
  return config;
}

std::vector<v1::LoyaltyEvent> EventsOf(AccrualTestEnv& env, v1::LoyaltyEvent::PayloadCase kind) {
  std::vector<v1::LoyaltyEvent> out;
  for (auto& e : env.Events()) {
    if (e.payload_case() == kind) out.push_back(e);
  }
  return out;
}

TEST(TierTest, UpgradeAtOnceDowngradeOneStepAfterGrace) {
  AccrualTestEnv env(TwoTiers());
  env.Enroll("m1", "+380671234567");
  env.core->ApplyBatch({env.Purchase("p1", "m1", 250'000)});  // crosses Silver by spend
  auto member = *env.core->GetMember("m1");
  EXPECT_EQ(member.tier(), "Silver");
  EXPECT_EQ(member.tier_progress().next_tier(), "Gold");
  EXPECT_EQ(member.tier_progress().spend_needed_minor(), 50'000);
  EXPECT_EQ(member.tier_progress().next_evaluation_at_ms(), env.clock.NowMs() + 30 * kDayMs);
  EXPECT_EQ(env.Balance("m1").available(), 2'500);  // earned at Bronze: the rate when buying
  env.core->ApplyBatch({env.Purchase("p2", "m1", 60'000)});  // now Silver 2% -> Gold
  EXPECT_EQ(env.Balance("m1").available(), 2'500 + 1'200);
  EXPECT_EQ(env.core->GetMember("m1")->tier(), "Gold");
  auto changes = EventsOf(env, v1::LoyaltyEvent::kTierChanged);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_TRUE(changes[1].tier_changed().upgrade());

  // 30 days: the review finds the spend still in the window: Gold stays.
  env.clock.Advance(30 * kDayMs);
  env.core->RunTimers();
  EXPECT_EQ(env.core->GetMember("m1")->tier(), "Gold");
  // 60 more days: the spend left the 90-day window: grace first, then one step down.
  env.clock.Advance(31 * kDayMs);
  env.core->RunTimers();
  env.clock.Advance(30 * kDayMs);
  env.core->RunTimers();
  member = *env.core->GetMember("m1");
  EXPECT_EQ(member.tier(), "Gold");
  EXPECT_TRUE(member.tier_progress().in_grace());
  env.clock.Advance(10 * kDayMs);
  env.core->RunTimers();
  EXPECT_EQ(env.core->GetMember("m1")->tier(), "Silver");  // one tier at a time
  env.Restart();                                           // the next review survives a restart
  env.clock.Advance(30 * kDayMs);
  env.core->RunTimers();
  env.clock.Advance(10 * kDayMs);
  env.core->RunTimers();
  EXPECT_EQ(env.core->GetMember("m1")->tier(), "Bronze");
  changes = EventsOf(env, v1::LoyaltyEvent::kTierChanged);
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[3].tier_changed().cause(), "evaluation");
  EXPECT_FALSE(changes[3].tier_changed().upgrade());
}

TEST(TierTest, PurchasesCountAndRefundsReduceQualifyingSpend) {
  AccrualTestEnv env(TwoTiers());
  env.Enroll("m1", "+380671234567");
  std::vector<Input> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(env.Purchase("p" + std::to_string(i), "m1", 1'000));
  env.core->ApplyBatch(batch);
  EXPECT_EQ(env.core->GetMember("m1")->tier_progress().purchases_needed(), 1);
  env.core->ApplyBatch({env.Refund("r0", "p0", "m1", 1'000)});  // a full refund uncounts it
  auto progress = env.core->GetMember("m1")->tier_progress();
  EXPECT_EQ(progress.purchases_needed(), 2);
  EXPECT_EQ(progress.window_spend_minor(), 3'000);
  env.core->ApplyBatch({env.Purchase("p5", "m1", 1'000), env.Purchase("p6", "m1", 1'000)});
  EXPECT_EQ(env.core->GetMember("m1")->tier(), "Silver");  // 5 purchases
}

TEST(TierTest, PaidMembershipHoldsTheTierThenFallsBack) {
  AccrualTestEnv env(TwoTiers());
  env.Enroll("m1", "+380671234567");
  v1::PurchaseMembershipRequest buy;
  buy.set_member_id("m1");
  buy.set_tier("Gold");
  buy.set_days(30);
  buy.set_idempotency_key("pm1");
  auto member = env.core->PurchaseMembership(kTestCaller, buy);
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  EXPECT_EQ(member->tier(), "Gold");
  env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000)});
  EXPECT_EQ(env.Balance("m1").available(), 300);  // Gold's 3%
  env.clock.Advance(30 * kDayMs);
  env.core->RunTimers();
  EXPECT_EQ(env.core->GetMember("m1")->tier(), "Bronze");
  buy.set_tier("Diamond");
  buy.set_idempotency_key("pm2");
  EXPECT_EQ(env.core->PurchaseMembership(kTestCaller, buy).status().message().rfind("tier:", 0),
            0u);
}

v1::Campaign Multiplier(const std::string& id, int64_t starts, int64_t ends, int64_t value_bp) {
  v1::Campaign c;
  c.set_campaign_id(id);
  c.set_name(id);
  c.set_starts_at_ms(starts);
  c.set_ends_at_ms(ends);
  c.set_effect(v1::CAMPAIGN_EFFECT_MULTIPLIER);
  c.set_value(value_bp);
  return c;
}

StatusOr<v1::Campaign> Create(AccrualTestEnv& env, const v1::Campaign& c) {
  v1::CreateCampaignRequest request;
  *request.mutable_campaign() = c;
  request.set_actor("marketing@shop");
  request.set_idempotency_key("create-" + c.campaign_id());
  return env.core->CreateCampaign(kTestCaller, request);
}

TEST(CampaignTest, WindowOpensAndClosesAndTheBreakdownShowsEachShare) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  int64_t now = env.clock.NowMs();
  ASSERT_TRUE(Create(env, Multiplier("double", now + kDayMs, now + 2 * kDayMs, 20'000)).ok());
  v1::Campaign bonus;
  bonus.set_campaign_id("coffee");
  bonus.set_name("coffee bonus");
  bonus.set_effect(v1::CAMPAIGN_EFFECT_LINE_BONUS);
  bonus.set_value(500);  // 5% of coffee lines
  bonus.add_categories("coffee");
  ASSERT_TRUE(Create(env, bonus).ok());

  auto purchase = AccrualTestEnv::MakePurchase("p1", "m1", 10'000);
  auto* line = purchase.add_lines();
  line->set_category("coffee");
  line->set_quantity(2);
  line->set_unit_price_minor(2'000);
  env.core->ApplyBatch({env.PurchaseOf(purchase)});  // before the window: base + coffee
  EXPECT_EQ(env.Balance("m1").available(), 100 + 200);
  env.clock.Advance(kDayMs);
  purchase.set_purchase_id("p2");
  auto simulated = env.core->SimulatePurchase(purchase);
  ASSERT_TRUE(simulated.ok());
  env.core->ApplyBatch({env.PurchaseOf(purchase)});  // in the window: doubled too
  auto entry = env.Ledger("m1").front();
  EXPECT_EQ(entry.breakdown().total_points(), 100 + 100 + 200);
  ASSERT_EQ(entry.breakdown().campaigns_size(), 2);
  EXPECT_EQ(simulated->points(), entry.breakdown().total_points());  // simulation is exact
  env.clock.Advance(kDayMs);
  purchase.set_purchase_id("p3");
  EXPECT_EQ(env.core->SimulatePurchase(purchase)->points(), 300);  // window closed
}

TEST(CampaignTest, ExclusiveStopsLowerPriorityAndCapsHold) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  auto big = Multiplier("big", 0, 0, 30'000);
  big.set_priority(10);
  big.set_exclusive(true);
  big.set_per_member_cap(250);
  ASSERT_TRUE(Create(env, big).ok());
  auto small = Multiplier("small", 0, 0, 20'000);
  ASSERT_TRUE(Create(env, small).ok());
  env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000)});  // 100 base + 200 big, small skipped
  EXPECT_EQ(env.Balance("m1").available(), 300);
  env.core->ApplyBatch({env.Purchase("p2", "m1", 10'000)});  // big capped at 50 more; stops
  EXPECT_EQ(env.Balance("m1").available(), 300 + 100 + 50);
  env.core->ApplyBatch({env.Purchase("p3", "m1", 10'000)});  // big gives 0: small applies
  EXPECT_EQ(env.Balance("m1").available(), 450 + 100 + 100);
}

TEST(CampaignTest, ACapCannotBeAddedOnceTheCampaignHasIssuedPoints) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  auto uncapped = Multiplier("uncapped", 0, 0, 20'000);
  ASSERT_TRUE(Create(env, uncapped).ok());
  v1::UpdateCampaignRequest update;
  update.set_actor("marketer");
  update.set_idempotency_key("u1");
  *update.mutable_campaign() = uncapped;
  update.mutable_campaign()->set_per_member_cap(500);
  // Before it issued points, a cap may be added.
  ASSERT_TRUE(env.core->UpdateCampaign(kTestCaller, update).ok());
  update.mutable_campaign()->set_per_member_cap(0);
  update.set_idempotency_key("u2");
  ASSERT_TRUE(env.core->UpdateCampaign(kTestCaller, update).ok());
  env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000)});
  update.mutable_campaign()->set_per_member_cap(500);
  update.set_idempotency_key("u3");
  auto refused = env.core->UpdateCampaign(kTestCaller, update);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("campaign.per_member_cap"), std::string::npos);
}

TEST(CampaignTest, TheLedgerNamesEachCampaignAndBadgesHaveTitles) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  auto promo = Multiplier("spring", 0, 0, 20'000);
  promo.set_name("Spring double points");
  ASSERT_TRUE(Create(env, promo).ok());
  env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000)});
  auto entry = env.Ledger("m1").front();
  ASSERT_EQ(entry.breakdown().campaigns_size(), 1);
  EXPECT_EQ(entry.breakdown().campaigns(0).campaign_id(), "spring");
  EXPECT_EQ(entry.breakdown().campaigns(0).name(), "Spring double points");
  EXPECT_NE(entry.reason().find("+100 from 1 campaign"), std::string::npos) << entry.reason();
  auto member = env.core->GetMember("m1");
  ASSERT_TRUE(member.ok());
  bool first_purchase = false;
  for (const auto& badge : member->badges()) {
    if (badge.id() == "first_purchase") {
      first_purchase = true;
      EXPECT_EQ(badge.title(), "First purchase");
    }
  }
  EXPECT_TRUE(first_purchase);
}

TEST(CampaignTest, BudgetIsNeverExceededUnderConcurrentPurchases) {
  AccrualTestEnv env;
  v1::Campaign c;
  c.set_campaign_id("bonus");
  c.set_name("bonus");
  c.set_effect(v1::CAMPAIGN_EFFECT_FIXED_BONUS);
  c.set_value(7);
  c.set_budget_points(1'000);
  ASSERT_TRUE(Create(env, c).ok());
  for (int m = 0; m < 8; ++m) {
    env.Enroll("m" + std::to_string(m), "+38067123450" + std::to_string(m));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < 10; ++b) {
        std::vector<Input> batch;
        for (int i = 0; i < 5; ++i) {
          InputMessage m;
          m.topic = kPurchasesTopic;
          m.partition = t;
          m.offset = b * 5 + i;
          m.value = AccrualTestEnv::MakePurchase(
                        "t" + std::to_string(t) + "-" + std::to_string(b * 5 + i),
                        "m" + std::to_string(t), 100)
                        .SerializeAsString();
          batch.push_back(DecodeInput(m));
        }
        env.core->ApplyBatch(batch);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(env.core->GetCampaign("bonus")->spent_points(), 1'000);  // 400 purchases * 7 > budget
  int64_t bonus_total = 0;
  for (int m = 0; m < 8; ++m) {
    for (const auto& e : env.Ledger("m" + std::to_string(m))) {
      for (const auto& share : e.breakdown().campaigns()) bonus_total += share.points();
    }
  }
  EXPECT_EQ(bonus_total, 1'000);
}

TEST(CampaignTest, ChangesAreAuditedAndBadDefinitionsRefused) {
  AccrualTestEnv env;
  auto c = Multiplier("x2", 0, 0, 20'000);
  ASSERT_TRUE(Create(env, c).ok());
  c.set_value(5'000);
  v1::UpdateCampaignRequest update;
  *update.mutable_campaign() = c;
  update.set_actor("boss");
  update.set_idempotency_key("u1");
  EXPECT_EQ(
      env.core->UpdateCampaign(kTestCaller, update).status().message().rfind("campaign.value:", 0),
      0u);
  c.set_value(15'000);
  *update.mutable_campaign() = c;
  update.set_idempotency_key("u2");
  ASSERT_TRUE(env.core->UpdateCampaign(kTestCaller, update).ok());
  v1::EndCampaignRequest end;
  end.set_campaign_id("x2");
  end.set_actor("boss");
  end.set_idempotency_key("e1");
  ASSERT_TRUE(env.core->EndCampaign(kTestCaller, end).ok());
  auto audit = env.core->ListCampaignAudit("x2");
  ASSERT_EQ(audit->entries_size(), 3);
  EXPECT_EQ(audit->entries(0).actor(), "marketing@shop");
  EXPECT_EQ(audit->entries(1).campaign().value(), 15'000);
  EXPECT_EQ(audit->entries(2).action(), "ended");
}

TEST(PartnerTest, PartnerRateReplacesTheTierRateAndIsReported) {
  AccrualConfig config;
  config.partners = {{"fuel", 50}};
  AccrualTestEnv env(config);
  env.Enroll("m1", "+380671234567");
  auto purchase = AccrualTestEnv::MakePurchase("p1", "m1", 10'000);
  purchase.set_partner_id("fuel");
  auto unknown = AccrualTestEnv::MakePurchase("p2", "m1", 10'000);
  unknown.set_partner_id("nobody");
  auto result = env.core->ApplyBatch({env.PurchaseOf(purchase), env.PurchaseOf(unknown)});
  EXPECT_EQ(result.dead_lettered.at("loyalty.purchases.v1|invalid"), 1);
  EXPECT_EQ(env.Balance("m1").available(), 50);
  env.core->ApplyBatch({env.Refund("r1", "p1", "m1", 5'000)});
  auto stats = env.core->ListPartnerStats();
  ASSERT_EQ(stats.partners_size(), 1);
  EXPECT_EQ(stats.partners(0).points_issued(), 50);
  EXPECT_EQ(stats.partners(0).points_clawed_back(), 25);
}

TEST(PendingTest, PointsWaitForTheReturnWindowAndRefundsCancelThemFirst) {
  AccrualConfig config;
  config.return_window_days = 14;
  AccrualTestEnv env(config);
  env.Enroll("m1", "+380671234567");
  env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000), env.Purchase("p2", "m1", 20'000)});
  v1::Balance b = env.Balance("m1");
  EXPECT_EQ(b.pending(), 300);
  EXPECT_EQ(b.available(), 0);
  env.core->ApplyBatch({env.Refund("r1", "p1", "m1", 10'000)});  // inside the window
  EXPECT_EQ(env.Balance("m1").pending(), 200);
  env.clock.Advance(14 * kDayMs);
  env.core->RunTimers();
  env.Restart();
  EXPECT_EQ(env.core->RunTimers(), 0);  // nothing released twice
  b = env.Balance("m1");
  EXPECT_EQ(b.pending(), 0);
  EXPECT_EQ(b.available(), 200);
  env.core->ApplyBatch({env.Refund("r2", "p2", "m1", 10'000)});  // outside: from available
  EXPECT_EQ(env.Balance("m1").available(), 100);
  EXPECT_EQ(EventsOf(env, v1::LoyaltyEvent::kPendingReleased).size(), 1u);
  env.ExpectLedgerMatchesBalance("m1");
}

TEST(ExpiryTest, OldestLotsAreSpentFirstRemindedOnceAndExpire) {
  AccrualConfig config;
  config.expiry = ExpiryPolicy::kRolling;
  config.expiry_days = 100;
  config.expiry_remind_days = 10;
  AccrualTestEnv env(config);
  env.Enroll("m1", "+380671234567");
  env.core->ApplyBatch({env.Purchase("p1", "m1", 10'000)});  // 100 points, lot A
  env.clock.Advance(50 * kDayMs);
  env.core->ApplyBatch({env.Purchase("p2", "m1", 10'000)});  // 100 points, lot B
  auto member = *env.core->GetMember("m1");
  EXPECT_EQ(member.next_expiry_points(), 100);
  // Spend 60: taken from lot A, which expires first.
  v1::HoldPointsRequest hold;
  hold.set_member_id("m1");
  hold.set_points(60);
  hold.set_idempotency_key("h1");
  auto held = env.core->HoldPoints(kTestCaller, hold);
  v1::CaptureHoldRequest capture;
  capture.set_hold_id(held->hold_id());
  capture.set_idempotency_key("c1");
  ASSERT_TRUE(env.core->CaptureHold(kTestCaller, capture).ok());
  EXPECT_EQ(env.core->GetMember("m1")->next_expiry_points(), 40);
  env.clock.Advance(42 * kDayMs);  // day 92: lot A's reminder is due
  env.core->RunTimers();
  env.Restart();
  env.core->RunTimers();
  auto reminders = EventsOf(env, v1::LoyaltyEvent::kPointsExpiringSoon);
  ASSERT_EQ(reminders.size(), 1u);
  EXPECT_EQ(reminders[0].points_expiring_soon().points(), 40);
  env.clock.Advance(10 * kDayMs);  // day 102: lot A is gone
  env.core->RunTimers();
  v1::Balance b = env.Balance("m1");
  EXPECT_EQ(b.available(), 100);
  EXPECT_EQ(b.lifetime_expired(), 40);
  env.ExpectLedgerMatchesBalance("m1");
}

TEST(ExpiryTest, CalendarPolicies) {
  AccrualConfig config;
  int64_t march_15 = 1'773'532'800'000;  // 2026-03-15T00:00:00Z
  config.expiry = ExpiryPolicy::kEndOfMonth;
  EXPECT_EQ(LotExpiry(config, march_15), 1'775'001'600'000 - 1);  // 2026-04-01 minus 1 ms
  config.expiry = ExpiryPolicy::kEndOfQuarter;
  EXPECT_EQ(LotExpiry(config, march_15), 1'775'001'600'000 - 1);
  config.expiry = ExpiryPolicy::kEndOfYear;
  EXPECT_EQ(LotExpiry(config, march_15), 1'798'761'600'000 - 1);  // 2027-01-01 minus 1 ms
  config.expiry = ExpiryPolicy::kNever;
  EXPECT_EQ(LotExpiry(config, march_15), 0);
}

// The Kafka adapter stages batch k+1 while batch k is being written: whatever the core reads
// back while applying must already be seen when it is only staged.
TEST(PipelineTest, ABatchStagedBeforeTheEarlierIsDurableSeesItsRecords) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  int64_t before = env.Balance("m1").available();
  auto activity = [&](const std::string& id, const std::string& object) {
    v1::ActivityEvent a;
    a.set_activity_id(id);
    a.set_member_id("m1");
    a.set_type("review");
    a.set_object_id(object);
    return env.Message(kActivitiesTopic, "m1", a.SerializeAsString());
  };
  // The refund overtakes its purchase and is parked; a review earns 50.
  auto first =
      env.core->StageBatch({env.Refund("r1", "p1", "m1", 10'000), activity("a1", "sku-1")});
  EXPECT_EQ(first.result.refunds_parked, 1);
  // Not yet durable: the purchase must find the parked refund, the activity ids and objects
  // must be known.
  auto second = env.core->StageBatch(
      {env.Purchase("p1", "m1", 10'000), activity("a1", "sku-1"), activity("a2", "sku-1")});
  EXPECT_EQ(second.result.purchases_applied, 1);
  EXPECT_EQ(second.result.refunds_applied, 1);
  EXPECT_EQ(second.result.duplicates, 1);
  env.core->FinishBatch(first);
  env.core->FinishBatch(second);
  EXPECT_EQ(env.Balance("m1").available(), before + 50);
  // A third batch, after both are durable: the parked refund is gone, not applied again.
  auto third = env.core->ApplyBatch({env.Purchase("p2", "m1", 10'000)});
  EXPECT_EQ(third.refunds_applied, 0);
  EXPECT_EQ(env.Balance("m1").available(), before + 50 + 100);
  env.ExpectLedgerMatchesBalance("m1");
}

TEST(ActivityTest, RulesCapsOncePerObjectAndDeadLetters) {
  AccrualTestEnv env;
  env.Enroll("m1", "+380671234567");
  auto activity = [&](const std::string& id, const std::string& type, const std::string& object) {
    v1::ActivityEvent a;
    a.set_activity_id(id);
    a.set_member_id("m1");
    a.set_type(type);
    a.set_object_id(object);
    return env.Message(kActivitiesTopic, "m1", a.SerializeAsString());
  };
  auto result = env.core->ApplyBatch({
      activity("a1", "review", "sku-1"),  // 50
      activity("a2", "review", "sku-1"),  // same object: nothing
      activity("a3", "review", "sku-2"),  // 50: the daily cap of 100 reached
      activity("a4", "review", "sku-3"),  // capped
      activity("a1", "review", "sku-1"),  // duplicate id
      activity("a5", "teleport", "x"),    // no rule
  });
  EXPECT_EQ(env.Balance("m1").available(), 100);
  EXPECT_EQ(result.duplicates, 1);
  EXPECT_EQ(result.dead_lettered.at("loyalty.activities.v1|invalid"), 1);
  env.clock.Advance(kDayMs);
  env.core->ApplyBatch({activity("a6", "review", "sku-3")});  // a new day
  EXPECT_EQ(env.Balance("m1").available(), 150);
  env.ExpectLedgerMatchesBalance("m1");
}

TEST(MilestoneTest, BadgesAreShownOnceWithTheirBonus) {
  AccrualConfig config = TwoTiers();
  config.purchase_milestones = {1, 3};
  config.milestone_bonus = {{"purchases_3", 500}};
  AccrualTestEnv env(config);
  env.Enroll("m1", "+380671234567");
  for (int i = 0; i < 4; ++i) {
    env.core->ApplyBatch({env.Purchase("p" + std::to_string(i), "m1", 40'000)});
  }
  auto member = *env.core->GetMember("m1");
  std::vector<std::string> ids;
  for (const auto& b : member.badges()) ids.push_back(b.id());
  // The third purchase crosses Silver's 1000.00 and earns at Bronze; its bonus crosses the
  // 1000-points milestone.
  EXPECT_EQ(ids, (std::vector<std::string>{"first_purchase", "tier_Silver", "purchases_3",
                                           "points_1000"}));
  EXPECT_EQ(member.balance().available(), 400 + 400 + 400 + 800 + 500);
  env.ExpectLedgerMatchesBalance("m1");
}

// Random purchases, refunds, holds, awards, adjustments, activities and the passing of time,
// with pending points and expiry on: after every step the ledger sums to the balances, the
// lots sum to the available balance, and nothing is negative.
TEST(PropertyTest, LedgerAlwaysMatchesBalances) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    AccrualConfig config = TwoTiers();
    config.return_window_days = 3;
    config.expiry = ExpiryPolicy::kRolling;
    config.expiry_days = 20;
    config.expiry_remind_days = 5;
    AccrualTestEnv env(config);
    std::mt19937_64 rng(seed);
    const int kMembers = 3;
    for (int m = 0; m < kMembers; ++m)
      env.Enroll("m" + std::to_string(m), "+3806712345" + std::to_string(10 + m));
    std::vector<std::pair<std::string, std::string>> purchases;  // id, member
    std::vector<std::string> open_holds;
    for (int step = 0; step < 300; ++step) {
      std::string member = "m" + std::to_string(rng() % kMembers);
      std::string id = std::to_string(step);
      switch (rng() % 9) {
        case 0:
        case 1:
          env.core->ApplyBatch({env.Purchase("p" + id, member, 100 + rng() % 50'000)});
          purchases.emplace_back("p" + id, member);
          break;
        case 2:
          if (!purchases.empty()) {
            auto& [pid, owner] = purchases[rng() % purchases.size()];
            env.core->ApplyBatch({env.Refund("r" + id, pid, owner, 1 + rng() % 20'000)});
          }
          break;
        case 3: {
          v1::HoldPointsRequest hold;
          hold.set_member_id(member);
          hold.set_points(1 + rng() % 300);
          hold.set_ttl_seconds(1 + rng() % (3 * 86'400));
          hold.set_idempotency_key("h" + id);
          auto held = env.core->HoldPoints(kTestCaller, hold);
          if (held.ok()) open_holds.push_back(held->hold_id());
          break;
        }
        case 4:
          if (!open_holds.empty()) {
            std::string hold_id = open_holds[rng() % open_holds.size()];
            if (rng() % 2) {
              v1::CaptureHoldRequest capture;
              capture.set_hold_id(hold_id);
              capture.set_points(rng() % 50);
              capture.set_idempotency_key("c" + id);
              env.core->CaptureHold(kTestCaller, capture);
            } else {
              v1::VoidHoldRequest void_hold;
              void_hold.set_hold_id(hold_id);
              void_hold.set_idempotency_key("v" + id);
              env.core->VoidHold(kTestCaller, void_hold);
            }
          }
          break;
        case 5: {
          v1::AdjustPointsRequest adjust;
          adjust.set_member_id(member);
          adjust.set_delta(static_cast<int64_t>(rng() % 400) - 200);
          if (adjust.delta() == 0) adjust.set_delta(1);
          adjust.set_reason("property");
          adjust.set_actor("test");
          adjust.set_allow_debt(rng() % 2);
          adjust.set_idempotency_key("a" + id);
          env.core->AdjustPoints(kTestCaller, adjust);
          break;
        }
        case 6: {
          v1::ActivityEvent a;
          a.set_activity_id("act" + id);
          a.set_member_id(member);
          a.set_type("check_in");
          env.core->ApplyBatch({env.Message(kActivitiesTopic, member, a.SerializeAsString())});
          break;
        }
        case 7:
          env.clock.Advance(static_cast<int64_t>(rng() % (2 * kDayMs)));
          env.core->ExpireHolds();
          env.core->RunTimers();
          break;
        case 8:
          if (rng() % 10 == 0) env.Restart();
          break;
      }
      if (step % 25 == 0 || step == 299) {
        for (int m = 0; m < kMembers; ++m) {
          std::string mid = "m" + std::to_string(m);
          env.ExpectLedgerMatchesBalance(mid);
          auto view = *env.core->GetMember(mid);
          EXPECT_LE(view.next_expiry_points(), view.balance().available());
        }
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

}  // namespace
}  // namespace loyalty::accrual
