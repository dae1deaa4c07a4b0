// Redemption with the real dev broker, the real loyalty-accrual and loyalty-redemption: points
// earned from a purchase on Kafka, concurrent redemptions of scarce stock, vouchers used once,
// checkout with points, bad input named, and kill -9 of redemption in the middle of many
// concurrent sagas with the invariants checked after the restart.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "tests/integration/redemption/redemption_cluster.h"

namespace loyalty::testing {
namespace {

std::string Field(const grpc::Status& s) {
  return s.error_message().substr(0, s.error_message().find(':'));
}

TEST(RedemptionIntegrationTest, ScarceStockIsNeverOversoldAndPointsAddUp) {
  RedemptionCluster cluster;
  std::vector<std::string> members;
  for (int i = 0; i < 8; ++i) members.push_back("scarce-" + std::to_string(i));
  cluster.EarnByPurchase(members, 5'000);
  std::map<std::string, int64_t> initial;
  for (const auto& m : members) initial[m] = cluster.Balance(m).available();
  cluster.CreateGiftCard("last-ones", 1'000, 6);

  // 8 members x 3 attempts each race for 6 units.
  std::atomic<int> completed{0}, sold_out{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 24; ++t) {
    threads.emplace_back([&, t] {
      v1::Redemption r;
      grpc::Status s =
          cluster.Redeem(members[t % 8], "last-ones", 1, "race-" + std::to_string(t), &r);
      if (s.ok() && r.state() == v1::REDEMPTION_STATE_COMPLETED) {
        ++completed;
      } else if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
                 Field(s) == "quantity") {
        ++sold_out;
      } else {
        ++other;
        ADD_FAILURE() << s.error_code() << " " << s.error_message();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(completed.load(), 6);
  EXPECT_EQ(sold_out.load(), 18);

  int64_t spent = 0, vouchers = 0;
  for (const auto& m : members) {
    v1::Balance b = cluster.Balance(m);
    EXPECT_EQ(b.held(), 0) << m;
    EXPECT_EQ(b.available() + b.lifetime_spent(), initial[m]) << m;
    spent += b.lifetime_spent();
    for (const auto& r : cluster.Redemptions(m)) vouchers += r.vouchers_size();
  }
  EXPECT_EQ(spent, 6'000);
  EXPECT_EQ(vouchers, 6);
  v1::GetRewardRequest get;
  get.set_reward_id("last-ones");
  v1::Reward reward;
  ASSERT_TRUE(cluster.Call(&v1::RedemptionService::Stub::GetReward, get, &reward).ok());
  EXPECT_EQ(reward.stock_used(), 6);
}

TEST(RedemptionIntegrationTest, VoucherUsedOnceCancelReturnsPointsAndBadInputIsNamed) {
  RedemptionCluster cluster;
  cluster.EarnByPurchase({"till-m1"}, 3'000);
  const int64_t start_points = cluster.Balance("till-m1").available();
  cluster.CreateGiftCard("gc", 1'000, -1);
  v1::Redemption r;
  ASSERT_TRUE(cluster.Redeem("till-m1", "gc", 2, "k1", &r).ok());
  ASSERT_EQ(r.vouchers_size(), 2);
  EXPECT_EQ(cluster.Balance("till-m1").available(), start_points - 2'000);

  v1::UseVoucherRequest use;
  use.set_code(r.vouchers(0).code());
  use.set_store_id("kyiv-01");
  use.set_idempotency_key("till-7-42");
  v1::Voucher used, retried, again;
  ASSERT_TRUE(cluster.Call(&v1::RedemptionService::Stub::UseVoucher, use, &used).ok());
  ASSERT_TRUE(cluster.Call(&v1::RedemptionService::Stub::UseVoucher, use, &retried).ok());
  EXPECT_EQ(retried.used_at_ms(), used.used_at_ms());
  use.set_idempotency_key("till-8-1");
  grpc::Status reuse = cluster.Call(&v1::RedemptionService::Stub::UseVoucher, use, &again);
  EXPECT_EQ(reuse.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Field(reuse), "code");

  // One voucher used: the redemption cannot be cancelled. A fresh one can, points come back.
  v1::CancelRedemptionRequest cancel;
  cancel.set_redemption_id(r.redemption_id());
  cancel.set_idempotency_key("c1");
  v1::Redemption cancelled;
  EXPECT_EQ(
      cluster.Call(&v1::RedemptionService::Stub::CancelRedemption, cancel, &cancelled).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  v1::Redemption second;
  ASSERT_TRUE(cluster.Redeem("till-m1", "gc", 1, "k2", &second).ok());
  EXPECT_EQ(cluster.Balance("till-m1").available(), start_points - 3'000);
  cancel.set_redemption_id(second.redemption_id());
  cancel.set_idempotency_key("c2");
  ASSERT_TRUE(
      cluster.Call(&v1::RedemptionService::Stub::CancelRedemption, cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.state(), v1::REDEMPTION_STATE_CANCELLED);
  EXPECT_EQ(cluster.Balance("till-m1").available(), start_points - 2'000);

  // Bad input: INVALID_ARGUMENT naming the field; unknown ids NOT_FOUND.
  v1::Redemption ignored;
  grpc::Status bad = cluster.Redeem("till-m1", "gc", -3, "k3", &ignored);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(bad), "quantity");
  bad = cluster.Redeem("", "gc", 1, "k4", &ignored);
  EXPECT_EQ(Field(bad), "member_id");
  bad = cluster.Redeem("till-m1", "gc", 1, "", &ignored);
  EXPECT_EQ(Field(bad), "idempotency_key");
  EXPECT_EQ(cluster.Redeem("till-m1", "nope", 1, "k5", &ignored).error_code(),
            grpc::StatusCode::NOT_FOUND);
  use.set_code("ABCD-EFGH-JKMN-PQRS");
  use.set_idempotency_key("till-9");
  bad = cluster.Call(&v1::RedemptionService::Stub::UseVoucher, use, &again);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(bad), "code");
  v1::CreateRewardRequest create;
  create.set_idempotency_key("bad-reward");
  create.mutable_reward()->set_name("x");
  create.mutable_reward()->set_kind(v1::REWARD_KIND_GIFT_CARD);
  create.mutable_reward()->mutable_gift_card()->set_value_minor(100);
  v1::Reward reward;
  bad = cluster.Call(&v1::RedemptionService::Stub::CreateReward, create, &reward);
  EXPECT_EQ(Field(bad), "reward.points_price");

  // Checkout with points: hold, capture part, the rest released.
  cluster.EarnByPurchase({"till-m2"}, 4'000);
  const int64_t m2_points = cluster.Balance("till-m2").available();
  v1::StartCheckoutRequest start;
  start.set_member_id("till-m2");
  start.set_basket_amount_minor(100'000);
  start.set_points(2'000);
  start.set_reference("order-9");
  start.set_idempotency_key("co-1");
  v1::Checkout checkout;
  ASSERT_TRUE(cluster.Call(&v1::RedemptionService::Stub::StartCheckout, start, &checkout).ok());
  EXPECT_EQ(cluster.Balance("till-m2").held(), 2'000);
  v1::CompleteCheckoutRequest complete;
  complete.set_checkout_id(checkout.checkout_id());
  complete.set_points(1'500);
  complete.set_idempotency_key("co-1-done");
  ASSERT_TRUE(
      cluster.Call(&v1::RedemptionService::Stub::CompleteCheckout, complete, &checkout).ok());
  EXPECT_EQ(checkout.points_captured(), 1'500);
  EXPECT_EQ(cluster.Balance("till-m2").available(), m2_points - 1'500);
  EXPECT_EQ(cluster.Balance("till-m2").held(), 0);

  // The metrics name what happened.
  std::string metrics = HttpGet(cluster.redemption().metrics_port(), "/metrics");
  EXPECT_NE(
      metrics.find("redemption_redemptions_total{kind=\"gift_card\",outcome=\"completed\"} 2"),
      std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("redemption_vouchers_used_total 1"), std::string::npos);
  EXPECT_NE(metrics.find("redemption_checkout_holds_open"), std::string::npos);
  // The callback handlers (Redeem here, holds and captures in accrual) are counted like the
  // blocking ones.
  EXPECT_NE(metrics.find("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Redeem\""),
            std::string::npos)
      << metrics;
  std::string accrual_metrics = HttpGet(cluster.accrual().metrics_port(), "/metrics");
  for (const char* method : {"HoldPoints", "CaptureHold"}) {
    EXPECT_NE(accrual_metrics.find(std::string("grpc_server_handled_total{grpc_code=\"OK\","
                                               "grpc_method=\"") +
                                   method + "\""),
              std::string::npos)
        << method << "\n"
        << accrual_metrics;
  }
}

TEST(RedemptionIntegrationTest, KillNineMidSagaResumesOrCompensatesEverything) {
  RedemptionCluster cluster;
  constexpr int kMembers = 20;
  constexpr int kPerMember = 15;
  constexpr int64_t kPoints = 10'000;
  std::vector<std::string> members;
  for (int i = 0; i < kMembers; ++i) members.push_back("crash-" + std::to_string(i));
  cluster.EarnByPurchase(members, kPoints);
  std::map<std::string, int64_t> initial;
  for (const auto& m : members) initial[m] = cluster.Balance(m).available();
  // Each attempt costs 1,000 of the member's 10,000: some must fail for want of points, and
  // the stock of 200 < 300 attempts makes others fail for want of stock.
  cluster.CreateGiftCard("crash-gc", 1'000, 200);

  // Two rounds, each killed while sagas are in flight: early (holds and captures under way)
  // and late (members running out of points, so refusals and compensations under way). The
  // threads stop issuing new redemptions; the ones in progress are cut wherever they are.
  std::vector<int> next(kMembers, 0);
  std::map<std::string, int> codes;
  for (int kill_at : {60, 230}) {
    std::atomic<bool> stop{false};
    std::atomic<int> answered{0};
    std::mutex codes_mu;
    // Counted before the threads start: each thread then owns its next[i] until joined.
    int before = 0;
    for (int n : next) before += n;
    std::vector<std::thread> threads;
    for (int i = 0; i < kMembers; ++i) {
      threads.emplace_back([&, i] {
        for (; next[i] < kPerMember && !stop; ++next[i]) {
          v1::Redemption r;
          grpc::Status s =
              cluster.Redeem(members[i], "crash-gc", 1,
                             "crash-" + std::to_string(i) + "-" + std::to_string(next[i]), &r);
          {
            std::lock_guard lock(codes_mu);
            ++codes[std::to_string(s.error_code()) + " " + s.error_message().substr(0, 40)];
          }
          ++answered;
        }
      });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (before + answered.load() < kill_at && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    int at_kill = before + answered.load();
    stop = true;
    cluster.redemption().Kill9();
    for (auto& t : threads) t.join();
    std::printf("killed after %d answered redemptions\n", at_kill);
    EXPECT_LT(at_kill, kMembers * kPerMember) << "the kill came after the work";
    cluster.StartRedemption();
  }
  for (const auto& [code, n] : codes) std::printf("  %5d x %s\n", n, code.c_str());

  // After the restart every saga finishes: completed with captured points, or failed with
  // points and stock back.
  auto settled = [&] {
    for (const auto& m : members) {
      for (const auto& r : cluster.Redemptions(m)) {
        if (r.state() != v1::REDEMPTION_STATE_COMPLETED &&
            r.state() != v1::REDEMPTION_STATE_FAILED) {
          return false;
        }
      }
    }
    return true;
  };
  ASSERT_TRUE(Eventually(settled, std::chrono::seconds(60)))
      << cluster.redemption().process().LogTail();

  int64_t completed_units = 0, failed = 0;
  for (const auto& m : members) {
    int64_t captured = 0;
    for (const auto& r : cluster.Redemptions(m)) {
      if (r.state() == v1::REDEMPTION_STATE_COMPLETED) {
        EXPECT_EQ(r.points_captured(), r.points()) << r.redemption_id();
        EXPECT_EQ(r.vouchers_size(), r.quantity()) << r.redemption_id();
        captured += r.points_captured();
        completed_units += r.quantity();
      } else {
        ++failed;
      }
    }
    v1::Balance b = cluster.Balance(m);
    EXPECT_EQ(b.lifetime_spent(), captured) << m;  // every voucher paid for, nothing else
    EXPECT_EQ(b.held(), 0) << m;                   // every failed saga let go of its hold
    EXPECT_EQ(b.available(), initial[m] - captured) << m;
  }
  v1::GetRewardRequest get;
  get.set_reward_id("crash-gc");
  v1::Reward reward;
  ASSERT_TRUE(cluster.Call(&v1::RedemptionService::Stub::GetReward, get, &reward).ok());
  EXPECT_EQ(reward.stock_used(), completed_units);  // failed sagas gave their stock back
  EXPECT_LE(completed_units, 200);
  std::printf("completed %lld units, %lld failed redemptions\n",
              static_cast<long long>(completed_units), static_cast<long long>(failed));
}

}  // namespace
}  // namespace loyalty::testing
