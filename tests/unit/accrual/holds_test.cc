#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>
#include <thread>

#include "tests/unit/accrual/test_env.h"

namespace loyalty::accrual {
namespace {

class HoldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env.Enroll("m1", "+380671234567");
    v1::AwardPointsRequest award;
    award.set_member_id("m1");
    award.set_points(1000);
    award.set_reason("test");
    award.set_idempotency_key("seed");
    ASSERT_TRUE(env.core->AwardPoints(kTestCaller, award).ok());
  }

  static v1::HoldPointsRequest HoldRequest(int64_t points, const std::string& key,
                                           int64_t ttl_seconds = 60) {
    v1::HoldPointsRequest request;
    request.set_member_id("m1");
    request.set_points(points);
    request.set_ttl_seconds(ttl_seconds);
    request.set_reference("order-" + key);
    request.set_idempotency_key(key);
    return request;
  }

  StatusOr<v1::Hold> Hold(int64_t points, const std::string& key, int64_t ttl_seconds = 60) {
    return env.core->HoldPoints(kTestCaller, HoldRequest(points, key, ttl_seconds));
  }

  StatusOr<v1::Hold> Capture(const std::string& hold_id, int64_t points, const std::string& key) {
    v1::CaptureHoldRequest request;
    request.set_hold_id(hold_id);
    request.set_points(points);
    request.set_idempotency_key(key);
    return env.core->CaptureHold(kTestCaller, request);
  }

  StatusOr<v1::Hold> Void(const std::string& hold_id, const std::string& key) {
    v1::VoidHoldRequest request;
    request.set_hold_id(hold_id);
    request.set_idempotency_key(key);
    return env.core->VoidHold(kTestCaller, request);
  }

  // The asynchronous calls, waited for here: the answer arrives on the store's thread.
  StatusOr<v1::Hold> HoldAsync(int64_t points, const std::string& key) {
    std::promise<StatusOr<v1::Hold>> answer;
    env.core->HoldPointsAsync(kTestCaller, HoldRequest(points, key),
                              [&](StatusOr<v1::Hold> hold) { answer.set_value(hold); });
    return answer.get_future().get();
  }

  StatusOr<v1::Hold> CaptureAsync(const std::string& hold_id, const std::string& key) {
    v1::CaptureHoldRequest request;
    request.set_hold_id(hold_id);
    request.set_idempotency_key(key);
    std::promise<StatusOr<v1::Hold>> answer;
    env.core->CaptureHoldAsync(kTestCaller, request,
                               [&](StatusOr<v1::Hold> hold) { answer.set_value(hold); });
    return answer.get_future().get();
  }

  AccrualTestEnv env;
};

TEST_F(HoldsTest, AsynchronousHoldAndCaptureAnswerOnceDurableAndShareKeysWithTheBlockingOnes) {
  auto hold = HoldAsync(300, "h1");
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_EQ(hold->balance().held(), 300);
  // A retry through the blocking call finds the same hold.
  auto again = Hold(300, "h1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->hold_id(), hold->hold_id());
  EXPECT_EQ(HoldAsync(701, "h2").status().code(), Code::kFailedPrecondition);  // at once

  auto captured = CaptureAsync(hold->hold_id(), "c1");
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  EXPECT_EQ(captured->captured(), 300);
  env.Restart();  // what was answered is on disk
  v1::Balance b = env.Balance("m1");
  EXPECT_EQ(b.available(), 700);
  EXPECT_EQ(b.held(), 0);
  EXPECT_EQ(b.lifetime_spent(), 300);
  EXPECT_EQ(CaptureAsync(hold->hold_id(), "c1")->captured(), 300);  // remembered
  EXPECT_EQ(CaptureAsync(hold->hold_id(), "c2").status().code(), Code::kFailedPrecondition);
  env.ExpectLedgerMatchesBalance("m1");
}

TEST_F(HoldsTest, HoldMovesPointsFromAvailableToHeld) {
  auto hold = Hold(300, "h1");
  ASSERT_TRUE(hold.ok());
  EXPECT_EQ(hold->balance().available(), 700);
  EXPECT_EQ(hold->balance().held(), 300);
  EXPECT_EQ(Hold(701, "h2").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(Hold(0, "h3").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Hold(1, "h4", -5).status().message().rfind("ttl_seconds:", 0), 0u);
}

TEST_F(HoldsTest, PartialCaptureSpendsAndReleasesTheRest) {
  auto hold = Hold(300, "h1");
  ASSERT_TRUE(hold.ok());
  EXPECT_EQ(Capture(hold->hold_id(), 301, "c0").status().code(), Code::kInvalidArgument);
  auto captured = Capture(hold->hold_id(), 200, "c1");
  ASSERT_TRUE(captured.ok());
  EXPECT_EQ(captured->captured(), 200);
  EXPECT_EQ(captured->status(), v1::HOLD_STATUS_CAPTURED);
  v1::Balance b = env.Balance("m1");
  EXPECT_EQ(b.available(), 800);
  EXPECT_EQ(b.held(), 0);
  EXPECT_EQ(b.lifetime_spent(), 200);
  // The till retries: same answer, nothing moves.
  ASSERT_TRUE(Capture(hold->hold_id(), 200, "c1").ok());
  EXPECT_EQ(env.Balance("m1").available(), 800);
  // Another capture or a void of a closed hold is refused.
  EXPECT_EQ(Capture(hold->hold_id(), 0, "c2").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(Void(hold->hold_id(), "v1").status().code(), Code::kFailedPrecondition);
  env.ExpectLedgerMatchesBalance("m1");
}

TEST_F(HoldsTest, VoidReleasesEverything) {
  auto hold = Hold(300, "h1");
  ASSERT_TRUE(Void(hold->hold_id(), "v1").ok());
  EXPECT_EQ(env.Balance("m1").available(), 1000);
  EXPECT_EQ(Void("h_unknown", "v2").status().code(), Code::kNotFound);
}

TEST_F(HoldsTest, ExpiryReleasesOnTheClockAndSurvivesRestart) {
  auto hold = Hold(300, "h1", 60);
  ASSERT_TRUE(hold.ok());
  env.clock.Advance(59 * kSecondMs);
  EXPECT_EQ(env.core->ExpireHolds(), 0);
  env.Restart();  // open holds are reloaded from the store
  env.clock.Advance(1 * kSecondMs);
  EXPECT_EQ(env.core->ExpireHolds(), 1);
  EXPECT_EQ(env.core->ExpireHolds(), 0);  // never released twice
  v1::Balance b = env.Balance("m1");
  EXPECT_EQ(b.available(), 1000);
  EXPECT_EQ(b.held(), 0);
  EXPECT_EQ(Capture(hold->hold_id(), 0, "late").status().code(), Code::kFailedPrecondition);
  env.ExpectLedgerMatchesBalance("m1");
}

TEST_F(HoldsTest, CaptureAfterTheDeadlineIsRefusedEvenBeforeTheScheduler) {
  auto hold = Hold(300, "h1", 60);
  env.clock.Advance(61 * kSecondMs);
  auto late = Capture(hold->hold_id(), 0, "c");
  EXPECT_EQ(late.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(env.Balance("m1").available(), 1000);
  EXPECT_EQ(env.core->OpenHolds(), 0);
}

TEST_F(HoldsTest, HoldWithCaptureSpendsInOneChangeExactlyLikeHoldThenCapture) {
  env.Enroll("m2", "+380671234568");
  v1::AwardPointsRequest award;
  award.set_member_id("m2");
  award.set_points(1000);
  award.set_reason("test");
  award.set_idempotency_key("seed-m2");
  ASSERT_TRUE(env.core->AwardPoints(kTestCaller, award).ok());
  // m2 the two-call way.
  v1::HoldPointsRequest two_calls = HoldRequest(300, "h2");
  two_calls.set_member_id("m2");
  auto held = env.core->HoldPoints(kTestCaller, two_calls);
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(Capture(held->hold_id(), 0, "c2").ok());

  // m1 in one call, through the asynchronous path the redemption saga takes.
  v1::HoldPointsRequest one_call = HoldRequest(300, "h1");
  one_call.set_capture(true);
  std::promise<StatusOr<v1::Hold>> answer;
  env.core->HoldPointsAsync(kTestCaller, one_call,
                            [&](StatusOr<v1::Hold> hold) { answer.set_value(hold); });
  auto spent = answer.get_future().get();
  ASSERT_TRUE(spent.ok()) << spent.status().ToString();
  EXPECT_EQ(spent->status(), v1::HOLD_STATUS_CAPTURED);
  EXPECT_EQ(spent->points(), 300);
  EXPECT_EQ(spent->captured(), 300);
  EXPECT_EQ(spent->balance().available(), 700);
  EXPECT_EQ(spent->balance().held(), 0);

  env.Restart();  // what was answered is on disk
  v1::Balance one = env.Balance("m1"), two = env.Balance("m2");
  EXPECT_EQ(one.available(), two.available());
  EXPECT_EQ(one.held(), 0);
  EXPECT_EQ(one.lifetime_spent(), 300);
  EXPECT_EQ(one.lifetime_spent(), two.lifetime_spent());
  std::vector<v1::LedgerKind> kinds_one, kinds_two;
  for (const auto& e : env.Ledger("m1")) kinds_one.push_back(e.kind());
  for (const auto& e : env.Ledger("m2")) kinds_two.push_back(e.kind());
  EXPECT_EQ(kinds_one, kinds_two);  // award, hold, capture
  EXPECT_EQ(kinds_one.size(), 3u);
  env.ExpectLedgerMatchesBalance("m1");

  // A retry answers the same captured hold and moves nothing; the hold is closed and no
  // expiry is left behind.
  auto again = env.core->HoldPoints(kTestCaller, one_call);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->hold_id(), spent->hold_id());
  EXPECT_EQ(again->status(), v1::HOLD_STATUS_CAPTURED);
  EXPECT_EQ(env.Balance("m1").available(), 700);
  EXPECT_EQ(Capture(spent->hold_id(), 0, "c1").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(env.core->OpenHolds(), 0);
  env.clock.Advance(3600 * kSecondMs);
  EXPECT_EQ(env.core->ExpireHolds(), 0);
  EXPECT_EQ(env.Balance("m1").available(), 700);

  // Not enough points: refused, nothing moves.
  v1::HoldPointsRequest too_much = HoldRequest(701, "h3");
  too_much.set_capture(true);
  EXPECT_EQ(env.core->HoldPoints(kTestCaller, too_much).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(env.Balance("m1").available(), 700);
}

TEST_F(HoldsTest, ParallelHoldsNeverOverdraw) {
  constexpr int kThreads = 8;
  constexpr int kAttempts = 50;
  std::atomic<int64_t> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kAttempts; ++i) {
        int64_t points = 1 + rng() % 40;
        auto hold = Hold(points, "t" + std::to_string(t) + "-" + std::to_string(i));
        if (!hold.ok()) continue;
        if (rng() % 3 == 0) {
          if (Void(hold->hold_id(), "v" + hold->hold_id()).ok()) continue;
        }
        if (Capture(hold->hold_id(), 0, "c" + hold->hold_id()).ok()) granted += points;
      }
    });
  }
  for (auto& th : threads) th.join();
  v1::Balance b = env.Balance("m1");
  EXPECT_GE(b.available(), 0);
  EXPECT_EQ(b.held(), 0);
  EXPECT_EQ(b.lifetime_spent(), granted.load());
  EXPECT_EQ(b.available() + b.lifetime_spent(), 1000);
  env.ExpectLedgerMatchesBalance("m1");
}

}  // namespace
}  // namespace loyalty::accrual
