// The redeem saga against the fake accrual: the happy path, refusals that compensate, answers
// lost on the way, restarts between steps, and concurrent redemptions of the last units.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "tests/support/test_caller.h"
#include "tests/unit/redemption/test_env.h"

namespace loyalty::redemption {
namespace {

class SagaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env.accrual.AddMember("m1", 10'000);
    env.CreateReward(RedemptionTestEnv::GiftCard("gc", 1'000, 10));
  }
  int64_t StockUsed(const std::string& reward) { return env.core->GetReward(reward)->stock_used(); }

  // 24 members at once after the last 5 units of "scarce", each redeeming one through redeem.
  void ExpectNoOversell(const std::function<StatusOr<v1::Redemption>(const std::string&,
                                                                     const std::string&)>& redeem) {
    env.CreateReward(RedemptionTestEnv::GiftCard("scarce", 100, 5));
    constexpr int kThreads = 24;
    for (int i = 0; i < kThreads; ++i) env.accrual.AddMember("c" + std::to_string(i), 1'000);
    std::atomic<int> completed{0}, refused{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        auto r = redeem("c" + std::to_string(i), "k" + std::to_string(i));
        if (r.ok()) {
          ++completed;
        } else if (r.status().code() == Code::kFailedPrecondition &&
                   r.status().message().rfind("quantity:", 0) == 0) {
          ++refused;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(completed.load(), 5);
    EXPECT_EQ(refused.load(), kThreads - 5);
    EXPECT_EQ(StockUsed("scarce"), 5);
    int64_t spent = 0;
    for (int i = 0; i < kThreads; ++i) {
      spent += env.accrual.Balance("c" + std::to_string(i)).lifetime_spent();
    }
    EXPECT_EQ(spent, 500);
  }

  RedemptionTestEnv env;
};

TEST_F(SagaTest, RedeemHoldsCapturesAndIssuesVouchers) {
  auto r = env.Redeem("m1", "gc", 2, "k1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(r->points(), 2'000);
  EXPECT_EQ(r->points_captured(), 2'000);
  ASSERT_EQ(r->vouchers_size(), 2);
  EXPECT_NE(r->vouchers(0).code(), r->vouchers(1).code());
  EXPECT_EQ(env.accrual.Balance("m1").available(), 8'000);
  EXPECT_EQ(env.accrual.Balance("m1").held(), 0);
  EXPECT_EQ(StockUsed("gc"), 2);
  EXPECT_EQ(env.core->PendingSagas(), 0);
  // One call to accrual: the hold is captured in the same change.
  EXPECT_EQ(env.accrual.calls("HoldPoints"), 1);
  EXPECT_EQ(env.accrual.calls("CaptureHold"), 0);
  EXPECT_FALSE(r->hold_id().empty());

  auto events = env.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_id(), "redemption:m1:1");
  EXPECT_EQ(events[0].member_id(), "m1");
  EXPECT_EQ(events[0].reward_redeemed().points(), 2'000);
  EXPECT_EQ(events[0].reward_redeemed().voucher_codes_size(), 2);
  EXPECT_EQ(events[0].reward_redeemed().reward_kind(), "gift_card");
}

TEST_F(SagaTest, RetryWithSameKeyReturnsTheSameRedemptionAndOtherArgumentsAreRefused) {
  auto first = env.Redeem("m1", "gc", 1, "k1");
  ASSERT_TRUE(first.ok());
  auto again = env.Redeem("m1", "gc", 1, "k1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->redemption_id(), first->redemption_id());
  EXPECT_EQ(again->vouchers(0).code(), first->vouchers(0).code());
  EXPECT_EQ(env.accrual.Balance("m1").available(), 9'000);
  EXPECT_EQ(env.accrual.calls("HoldPoints"), 1);
  auto other = env.Redeem("m1", "gc", 2, "k1");
  EXPECT_EQ(other.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(other.status().message().rfind("idempotency_key:", 0), 0u);
}

TEST_F(SagaTest, NotEnoughPointsFailsAndGivesTheStockBack) {
  auto r = env.Redeem("m1", "gc", 10, "k1");  // 10,000 points: exactly the balance
  ASSERT_TRUE(r.ok());
  auto poor = env.Redeem("m1", "gc", 0, "k2");  // quantity 0 means 1; stock has 0 left
  EXPECT_EQ(poor.status().code(), Code::kFailedPrecondition);

  env.CreateReward(RedemptionTestEnv::GiftCard("gc2", 1, 10));
  auto refused = env.Redeem("m1", "gc2", 1, "k3");
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(refused.status().message().rfind("points:", 0), 0u) << refused.status().message();
  EXPECT_EQ(StockUsed("gc2"), 0);
  // The failure is the saga's final state: a retry answers the same, and it is listed.
  auto retried = env.Redeem("m1", "gc2", 1, "k3");
  EXPECT_EQ(retried.status().code(), Code::kFailedPrecondition);
  auto listed = env.core->ListRedemptions("m1");
  ASSERT_TRUE(listed.ok());
  int failed = 0;
  for (const auto& x : listed->redemptions()) failed += x.state() == v1::REDEMPTION_STATE_FAILED;
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(env.accrual.open_holds(), 0);
}

TEST_F(SagaTest, UnknownMemberIsRefusedWithTheFieldNamed) {
  auto r = env.Redeem("nobody", "gc", 1, "k1");
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message().rfind("member_id:", 0), 0u);
  EXPECT_EQ(StockUsed("gc"), 0);
}

TEST_F(SagaTest, BadInputNamesTheField) {
  EXPECT_EQ(env.Redeem("", "gc", 1, "k").status().message().rfind("member_id:", 0), 0u);
  EXPECT_EQ(env.Redeem("m1", "", 1, "k").status().message().rfind("reward_id:", 0), 0u);
  EXPECT_EQ(env.Redeem("m1", "gc", -1, "k").status().message().rfind("quantity:", 0), 0u);
  EXPECT_EQ(env.Redeem("m1", "gc", 1000, "k").status().message().rfind("quantity:", 0), 0u);
  EXPECT_EQ(env.Redeem("m1", "gc", 1, "").status().message().rfind("idempotency_key:", 0), 0u);
  EXPECT_EQ(env.Redeem("m1", "nope", 1, "k").status().code(), Code::kNotFound);
}

TEST_F(SagaTest, AccrualDownLeavesTheSagaReservedAndResumeFinishesIt) {
  env.accrual.SetAllUnavailable(true);
  auto r = env.Redeem("m1", "gc", 1, "k1");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(StockUsed("gc"), 1);  // still reserved: the saga is not over
  EXPECT_EQ(env.core->PendingSagas(), 1);
  EXPECT_EQ(env.core->ResumePending(), 1);
  env.accrual.SetAllUnavailable(false);
  EXPECT_EQ(env.core->ResumePending(), 0);
  auto done = env.Redeem("m1", "gc", 1, "k1");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 9'000);
  EXPECT_GE(env.observer.retried["hold"], 1);
}

TEST_F(SagaTest, LostHoldAnswerFindsTheSameHoldOnRetry) {
  env.accrual.LoseAnswer("HoldPoints", 2);  // applied twice over, answered never
  auto r = env.Redeem("m1", "gc", 1, "k1");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(env.accrual.Balance("m1").lifetime_spent(), 1'000);  // spent once, not twice
  EXPECT_EQ(env.accrual.Balance("m1").available(), 9'000);
  env.Restart();  // and a crash for good measure: the retry sends the very same request
  EXPECT_EQ(env.core->ResumePending(), 0);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 9'000);
  EXPECT_EQ(env.accrual.Balance("m1").held(), 0);
  EXPECT_EQ(env.accrual.Balance("m1").lifetime_spent(), 1'000);
  auto done = env.Redeem("m1", "gc", 1, "k1");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->vouchers_size(), 1);
}

TEST_F(SagaTest, RestartAfterTheHoldCapturesExactlyOnce) {
  env.accrual.IgnoreCaptureWithHold();       // an earlier accrual: hold, then capture
  env.accrual.LoseAnswer("CaptureHold", 2);  // captured, but the saga does not know
  auto r = env.Redeem("m1", "gc", 3, "k1");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  env.Restart();
  EXPECT_EQ(env.core->ResumePending(), 0);
  auto done = env.Redeem("m1", "gc", 3, "k1");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(done->vouchers_size(), 3);
  EXPECT_EQ(env.accrual.Balance("m1").lifetime_spent(), 3'000);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 7'000);
  // The step finished after the restart still speaks for the caller who redeemed.
  EXPECT_EQ(done->principal(), kTestCaller.value());
  auto events = env.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].principal(), kTestCaller.value());
}

TEST_F(SagaTest, HoldExpiredBeforeCaptureCompensatesPointsAndStock) {
  env.accrual.IgnoreCaptureWithHold();  // an earlier accrual: hold, then capture
  env.accrual.Unavailable("CaptureHold", 2);
  auto r = env.Redeem("m1", "gc", 1, "k1");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(env.accrual.Balance("m1").held(), 1'000);
  env.clock.Advance(RedemptionConfig{}.redeem_hold_ttl_seconds * 1000 + 1);
  env.Restart();
  EXPECT_EQ(env.core->ResumePending(), 0);
  auto listed = env.core->ListRedemptions("m1");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->redemptions_size(), 1);
  const v1::Redemption* failed = &listed->redemptions(0);
  EXPECT_EQ(failed->state(), v1::REDEMPTION_STATE_FAILED);
  EXPECT_NE(failed->failure_reason().find("hold"), std::string::npos);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 10'000);
  EXPECT_EQ(env.accrual.Balance("m1").held(), 0);
  EXPECT_EQ(StockUsed("gc"), 0);
  EXPECT_EQ(env.observer.finished["failed"], 1);
}

TEST_F(SagaTest, ConcurrentRedemptionsNeverOversellTheLastUnits) {
  ExpectNoOversell([&](const std::string& member, const std::string& key) {
    return env.Redeem(member, "scarce", 1, key);
  });
}

// RedeemAsync (the gRPC handler's path): the same saga without holding a thread, with whatever
// it cannot finish on its own handed to the blocking runner.
class AsyncSagaTest : public SagaTest {
 protected:
  void SetUp() override {
    SagaTest::SetUp();
    env.core->SetBlockingRunner([this](std::function<void()> work) {
      ++handed_over;
      std::thread(std::move(work)).detach();
    });
  }
  void TearDown() override {
    // Wait for handed-over work before the env goes.
    for (int i = 0; i < 500 && env.core->PendingSagas() > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::atomic<int> handed_over{0};
};

TEST_F(AsyncSagaTest, RedeemsLikeTheBlockingCallWithoutTheRunner) {
  auto r = env.RedeemAsync("m1", "gc", 2, "k1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(r->points_captured(), 2'000);
  ASSERT_EQ(r->vouchers_size(), 2);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 8'000);
  EXPECT_EQ(env.accrual.Balance("m1").held(), 0);
  EXPECT_EQ(StockUsed("gc"), 2);
  EXPECT_EQ(env.core->PendingSagas(), 0);
  EXPECT_EQ(env.Events().size(), 1u);
  EXPECT_EQ(env.observer.finished["completed"], 1);
  EXPECT_EQ(env.observer.issued, 2);
  EXPECT_EQ(handed_over, 0);

  env.Restart();  // answered means durable
  auto again = env.Redeem("m1", "gc", 2, "k1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->redemption_id(), r->redemption_id());
  EXPECT_EQ(again->vouchers(1).code(), r->vouchers(1).code());
  EXPECT_EQ(env.accrual.calls("HoldPoints"), 1);
}

TEST_F(AsyncSagaTest, BadInputIsRefusedAtOnceWithTheFieldNamed) {
  auto r = env.RedeemAsync("m1", "gc", -1, "k1");
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("quantity:", 0), 0u);
  EXPECT_EQ(env.RedeemAsync("m1", "nope", 1, "k2").status().message().rfind("reward_id:", 0), 0u);
  EXPECT_EQ(env.RedeemAsync("m1", "gc", 1, "").status().message().rfind("idempotency_key:", 0), 0u);
  EXPECT_EQ(StockUsed("gc"), 0);
}

TEST_F(AsyncSagaTest, ARefusedHoldFailsThroughTheRunnerAndGivesTheStockBack) {
  env.accrual.AddMember("m2", 500);
  auto refused = env.RedeemAsync("m2", "gc", 1, "k1");  // 1,000 points for 500
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(handed_over, 1);
  EXPECT_EQ(StockUsed("gc"), 0);
  EXPECT_EQ(env.core->PendingSagas(), 0);
  EXPECT_EQ(env.observer.finished["failed"], 1);
  EXPECT_EQ(env.accrual.Balance("m2").available(), 500);
}

TEST_F(AsyncSagaTest, ALostHoldAnswerIsRetriedByTheRunnerAndSpentOnce) {
  env.accrual.LoseAnswer("HoldPoints", 1);  // spent, but the saga does not know
  auto r = env.RedeemAsync("m1", "gc", 3, "k1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(r->points_captured(), 3'000);
  EXPECT_EQ(handed_over, 1);
  EXPECT_GE(env.observer.retried["hold"], 1);
  EXPECT_EQ(env.accrual.calls("CaptureHold"), 0);
  EXPECT_EQ(env.accrual.Balance("m1").lifetime_spent(), 3'000);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 7'000);
  EXPECT_EQ(env.Events().size(), 1u);
}

TEST_F(AsyncSagaTest, ALostCaptureAnswerIsRetriedByTheRunnerAndCapturedOnce) {
  env.accrual.IgnoreCaptureWithHold();       // an earlier accrual: hold, then capture
  env.accrual.LoseAnswer("CaptureHold", 1);  // captured, but the saga does not know
  auto r = env.RedeemAsync("m1", "gc", 3, "k1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(handed_over, 1);
  EXPECT_GE(env.observer.retried["capture"], 1);
  EXPECT_EQ(env.accrual.Balance("m1").lifetime_spent(), 3'000);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 7'000);
  EXPECT_EQ(env.Events().size(), 1u);
}

TEST_F(SagaTest, AsyncRetryOfASagaInFlightWaitsWithoutARunnerThread) {
  // A runner that only queues, so the test decides when handed-over work runs.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queued;
  env.core->SetBlockingRunner([&](std::function<void()> work) {
    std::lock_guard lock(mu);
    queued.push_back(std::move(work));
    cv.notify_all();
  });
  auto next_work = [&] {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !queued.empty(); }));
    auto work = std::move(queued.front());
    queued.pop_front();
    return work;
  };
  v1::RedeemRequest request;
  request.set_member_id("m1");
  request.set_reward_id("gc");
  request.set_idempotency_key("k1");
  std::promise<StatusOr<v1::Redemption>> first, retry;
  env.accrual.LoseAnswer("HoldPoints", 1);  // the first saga needs the runner
  env.core->RedeemAsync(kTestCaller, request,
                        [&](StatusOr<v1::Redemption> r) { first.set_value(r); });
  std::function<void()> drive_first = next_work();
  // The client retries while the saga is in flight: nothing is queued for the retry yet.
  env.core->RedeemAsync(kTestCaller, request,
                        [&](StatusOr<v1::Redemption> r) { retry.set_value(r); });
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(queued.empty());
  }
  drive_first();  // completes the saga and hands the claim to the retry
  auto first_answer = first.get_future().get();
  ASSERT_TRUE(first_answer.ok()) << first_answer.status().ToString();
  next_work()();  // the retry reads the outcome
  auto retry_answer = retry.get_future().get();
  ASSERT_TRUE(retry_answer.ok());
  EXPECT_EQ(retry_answer->redemption_id(), first_answer->redemption_id());
  EXPECT_EQ(env.accrual.Balance("m1").lifetime_spent(), 1'000);
  EXPECT_EQ(env.core->PendingSagas(), 0);
}

TEST_F(AsyncSagaTest, ConcurrentRedemptionsNeverOversellTheLastUnits) {
  ExpectNoOversell([&](const std::string& member, const std::string& key) {
    return env.RedeemAsync(member, "scarce", 1, key);
  });
}

TEST(RedemptionCacheTest, FinishedRedemptionsLeaveMemoryButNotTheStore) {
  RedemptionConfig config;
  config.cached_finished = 5;
  RedemptionTestEnv env(config);
  env.accrual.AddMember("m1", 100'000);
  env.CreateReward(RedemptionTestEnv::GiftCard("gc", 10, -1));
  std::vector<v1::Redemption> done;
  for (int i = 0; i < 30; ++i) {
    auto r = env.Redeem("m1", "gc", 1, "k" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    done.push_back(*r);
    EXPECT_LE(env.core->CachedRedemptions(), 11u);  // trimmed to 5 whenever it passes 10
  }
  // Every one is still there, vouchers and all, read back from the store.
  for (const auto& r : done) {
    auto read = env.core->GetRedemption(r.redemption_id());
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->state(), v1::REDEMPTION_STATE_COMPLETED);
    ASSERT_EQ(read->vouchers_size(), 1);
    EXPECT_EQ(read->vouchers(0).code(), r.vouchers(0).code());
  }
  // A retried key still finds its saga.
  auto again = env.Redeem("m1", "gc", 1, "k0");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->redemption_id(), done[0].redemption_id());
  EXPECT_EQ(env.accrual.Balance("m1").lifetime_spent(), 300);
}

TEST_F(SagaTest, PerMemberLimitCountsUnitsAndFailuresGiveThemBack) {
  auto limited = RedemptionTestEnv::GiftCard("lim", 100, -1);
  limited.set_per_member_limit(2);
  env.CreateReward(limited);
  ASSERT_TRUE(env.Redeem("m1", "lim", 2, "a").ok());
  auto third = env.Redeem("m1", "lim", 1, "b");
  EXPECT_EQ(third.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(third.status().message().rfind("quantity:", 0), 0u);
  // A redemption refused for points gives its units back to the member's limit.
  env.accrual.AddMember("poor", 150);
  EXPECT_EQ(env.Redeem("poor", "lim", 2, "c").status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(env.Redeem("poor", "lim", 1, "d").ok());
}

TEST_F(SagaTest, CancelReturnsPointsStockAndKillsTheVouchers) {
  auto r = env.Redeem("m1", "gc", 2, "k1");
  ASSERT_TRUE(r.ok());
  v1::CancelRedemptionRequest cancel;
  cancel.set_redemption_id(r->redemption_id());
  cancel.set_reason("changed my mind");
  cancel.set_idempotency_key("c1");
  env.accrual.Unavailable("AwardPoints", 2);
  const Principal support("spiffe://loyalty/support/desk-1");
  auto first = env.core->CancelRedemption(support, cancel);
  EXPECT_EQ(first.status().code(), Code::kUnavailable);
  EXPECT_EQ(StockUsed("gc"), 0);  // stock is back at once, the vouchers are dead
  v1::UseVoucherRequest use;
  use.set_code(r->vouchers(0).code());
  use.set_store_id("s1");
  use.set_idempotency_key("u1");
  EXPECT_EQ(env.core->UseVoucher(kTestCaller, use).status().code(), Code::kFailedPrecondition);
  env.Restart();
  EXPECT_EQ(env.core->ResumePending(), 0);
  auto cancelled = env.core->CancelRedemption(support, cancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state(), v1::REDEMPTION_STATE_CANCELLED);
  EXPECT_EQ(cancelled->principal(), kTestCaller.value());
  EXPECT_EQ(cancelled->cancelled_by(), support.value());
  EXPECT_EQ(cancelled->points_returned(), 2'000);
  EXPECT_EQ(env.accrual.awarded("redemption"), 2'000);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 10'000);
  // Another cancellation of the same redemption is refused, not repeated.
  cancel.set_idempotency_key("c2");
  EXPECT_EQ(env.core->CancelRedemption(kTestCaller, cancel).status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(env.accrual.awarded("redemption"), 2'000);
  auto events = env.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].event_id(), "redemption:m1:2");
  EXPECT_EQ(events[1].redemption_cancelled().points_returned(), 2'000);
  EXPECT_EQ(events[0].principal(), kTestCaller.value());
  EXPECT_EQ(events[1].principal(), support.value());  // finished after a restart, too
}

TEST_F(SagaTest, UsedVoucherCannotBeCancelled) {
  auto r = env.Redeem("m1", "gc", 1, "k1");
  ASSERT_TRUE(r.ok());
  v1::UseVoucherRequest use;
  use.set_code(r->vouchers(0).code());
  use.set_store_id("s1");
  use.set_idempotency_key("u1");
  ASSERT_TRUE(env.core->UseVoucher(kTestCaller, use).ok());
  v1::CancelRedemptionRequest cancel;
  cancel.set_redemption_id(r->redemption_id());
  cancel.set_idempotency_key("c1");
  auto refused = env.core->CancelRedemption(kTestCaller, cancel);
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(env.accrual.awarded("redemption"), 0);
}

}  // namespace
}  // namespace loyalty::redemption
