// Redemption's modules on their own: the catalog's redeem checks, the voucher book, saga
// claims and the saga book, against a real store in a temp dir.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/clock.h"
#include "common/store.h"
#include "services/redemption/core/catalog.h"
#include "services/redemption/core/member_states.h"
#include "services/redemption/core/redemption_core.h"
#include "services/redemption/core/saga_book.h"
#include "services/redemption/core/saga_claims.h"
#include "services/redemption/core/voucher_book.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace loyalty::redemption {
namespace {

class ModulesTest : public ::testing::Test {
 protected:
  ModulesTest() {
    store = testing::OpenStoreOrThrow(dir.path(), RedemptionColumnFamilies());
    members = std::make_unique<MemberStates>(*store, clock);
    catalog = std::make_unique<Catalog>(*store, clock, *members, "UAH");
  }

  v1::Reward CreateReward(int64_t stock, int64_t per_member_limit) {
    v1::CreateRewardRequest request;
    v1::Reward& r = *request.mutable_reward();
    r.set_reward_id("coffee");
    r.set_name("Coffee");
    r.set_kind(v1::REWARD_KIND_FREE_PRODUCT);
    r.mutable_free_product()->set_sku("coffee-1");
    r.set_points_price(100);
    r.set_stock_total(stock);
    r.set_per_member_limit(per_member_limit);
    r.set_active(true);
    Txn txn;
    auto created = catalog->Create(txn, request);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return *created;
  }

  void Commit(Txn& txn) {
    Outbox outbox(*store);
    store->Commit([&](StagedWrite& write) {
      members->WriteDirty(txn, write);
      catalog->WriteDirty(txn, write);
      txn.WriteTo(write, outbox);
    });
  }

  testing::TempDir dir;
  ManualClock clock;
  std::unique_ptr<Store> store;
  std::unique_ptr<MemberStates> members;
  std::unique_ptr<Catalog> catalog;
};

TEST_F(ModulesTest, CatalogRefusesBeyondStockAndBeyondTheMembersLimitAndStockComesBack) {
  CreateReward(/*stock=*/3, /*per_member_limit=*/2);
  v1::Reward& reward = *catalog->Find("coffee");
  v1::Member anyone;
  EXPECT_TRUE(catalog->CheckRedeemable(reward, "m1", anyone, 2).ok());
  Txn txn;
  catalog->TakeStock(txn, reward, 2);
  members->AddUnits(txn, "m1", "coffee", 2);
  Status limit = catalog->CheckRedeemable(reward, "m1", anyone, 1);
  EXPECT_EQ(limit.code(), Code::kFailedPrecondition);
  EXPECT_NE(limit.message().find("per member"), std::string::npos);
  Status stock = catalog->CheckRedeemable(reward, "m2", anyone, 2);
  EXPECT_NE(stock.message().find("left in stock"), std::string::npos);
  catalog->ReleaseStock(txn, "coffee", 2);
  members->AddUnits(txn, "m1", "coffee", -2);
  EXPECT_TRUE(catalog->CheckRedeemable(reward, "m1", anyone, 2).ok());
  EXPECT_EQ(reward.stock_used(), 0);
}

TEST_F(ModulesTest, CatalogIsReloadedFromTheStore) {
  CreateReward(5, 0);
  Txn txn;
  catalog->TakeStock(txn, *catalog->Find("coffee"), 4);
  Commit(txn);
  Catalog reopened(*store, clock, *members, "UAH");
  ASSERT_NE(reopened.Find("coffee"), nullptr);
  EXPECT_EQ(reopened.Find("coffee")->stock_used(), 4);
}

TEST_F(ModulesTest, VouchersAreIssuedPerUnitAndReadExpiredPastTheirDate) {
  VoucherBook vouchers(*store, clock, /*default_validity_days=*/30);
  v1::Redemption redemption;
  redemption.set_redemption_id("r_1");
  redemption.set_member_id("m1");
  redemption.set_reward_id("coffee");
  redemption.set_quantity(3);
  v1::Reward reward;
  reward.set_kind(v1::REWARD_KIND_FREE_PRODUCT);
  Txn txn;
  auto issued = vouchers.Issue(txn, redemption, reward);
  ASSERT_EQ(issued.size(), 3u);
  EXPECT_NE(issued[0].code(), issued[1].code());
  EXPECT_EQ(issued[0].valid_until_ms(), clock.NowMs() + 30 * kDayMs);
  EXPECT_TRUE(vouchers.CheckUse(issued[0], &reward, "store-1").ok());
  clock.Advance(31 * kDayMs);
  v1::Voucher shown = vouchers.WithDisplayStatus(issued[0]);
  EXPECT_EQ(shown.status(), v1::VOUCHER_STATUS_EXPIRED);
  EXPECT_EQ(vouchers.CheckUse(shown, &reward, "store-1").code(), Code::kFailedPrecondition);
  EXPECT_EQ(vouchers.WhyNotUsable(shown, reward, "store-1"), "voucher expired");
  reward.set_kind(v1::REWARD_KIND_DONATION);
  EXPECT_TRUE(vouchers.Issue(txn, redemption, reward).empty());  // nothing to show at a till
}

TEST(SagaClaimsTest, AnAsynchronousWaiterGetsTheClaimHandedOver) {
  std::mutex mu;
  SagaClaims claims(mu);
  EXPECT_TRUE(claims.TryClaim("r_1"));
  EXPECT_FALSE(claims.TryClaim("r_1"));
  bool ran = false;
  claims.ClaimAsync("r_1", [&] { ran = true; });
  EXPECT_FALSE(ran);
  claims.Unclaim("r_1");  // handed over, not released
  EXPECT_TRUE(ran);
  EXPECT_FALSE(claims.TryClaim("r_1"));
  claims.Unclaim("r_1");
  EXPECT_TRUE(claims.TryClaim("r_1"));
}

TEST(SagaClaimsTest, ABlockingClaimWaitsForTheHolder) {
  std::mutex mu;
  SagaClaims claims(mu);
  claims.Claim("r_1");
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    claims.Claim("r_1");
    got = true;
    claims.Unclaim("r_1");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(got.load());
  claims.Unclaim("r_1");
  waiter.join();
  EXPECT_TRUE(got.load());
}

TEST_F(ModulesTest, SagaBookKeepsPendingSagasAndOpenCheckoutsAcrossARestart) {
  SagaBook sagas(*store, clock, /*cached_finished=*/10);
  Txn txn;
  v1::Checkout c;
  c.set_checkout_id("co_1");
  c.set_state(v1::CHECKOUT_STATE_OPENING);
  sagas.AddCheckout(txn, c, /*ttl_seconds=*/60);
  sagas.MarkPending(txn, "co_1");
  v1::Checkout open = c;
  open.set_state(v1::CHECKOUT_STATE_OPEN);
  open.set_expires_at_ms(clock.NowMs() + 60'000);
  sagas.IndexOpenCheckout(txn, c, open);
  Commit(txn);

  SagaBook reopened(*store, clock, 10);
  EXPECT_EQ(reopened.pending(), 1u);
  EXPECT_EQ(reopened.open_checkouts(), 1u);
  v1::redemptioninternal::CheckoutRecord* record = nullptr;
  ASSERT_NE(reopened.FindCheckout("co_1", &record), nullptr);
  EXPECT_EQ(record->ttl_seconds(), 60);
  Txn expire;
  EXPECT_TRUE(reopened.TakeExpiredCheckouts(expire, clock.NowMs()).empty());
  EXPECT_EQ(reopened.TakeExpiredCheckouts(expire, clock.NowMs() + 60'000).size(), 1u);
  EXPECT_EQ(reopened.open_checkouts(), 0u);
}

TEST_F(ModulesTest, SagaKeysFindTheirSagaAndRefuseOtherArguments) {
  SagaBook sagas(*store, clock, 10);
  Txn txn;
  const Principal till("spiffe://loyalty/till/a"), shop("apikey:shop");
  sagas.RememberSagaKey(txn, "Redeem", till, "k1", "request-bytes", "r_1");
  Commit(txn);
  EXPECT_EQ(*sagas.SagaForKey("Redeem", till, "k1", "request-bytes"), "r_1");
  EXPECT_EQ(*sagas.SagaForKey("Redeem", till, "k2", "request-bytes"), "");
  EXPECT_EQ(sagas.SagaForKey("Redeem", till, "k1", "other").status().code(), Code::kAlreadyExists);
  // Another caller's k1 is another key: no saga of the till's, and no conflict either.
  EXPECT_EQ(*sagas.SagaForKey("Redeem", shop, "k1", "other"), "");
}

}  // namespace
}  // namespace loyalty::redemption
