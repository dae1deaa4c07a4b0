// Paying with points at checkout: the quote's arithmetic, holds completed fully or in part,
// cancelled, retried, and abandoned ones released by the hold's expiry.
#include <gtest/gtest.h>

#include "tests/support/test_caller.h"
#include "tests/unit/redemption/test_env.h"

namespace loyalty::redemption {
namespace {

RedemptionConfig CheckoutConfig() {
  RedemptionConfig c;
  c.point_value_minor = 2;         // a point pays 2 kopiyky
  c.checkout_max_share_bp = 3000;  // at most 30% of the basket
  c.checkout_min_points = 100;
  c.checkout_default_ttl_seconds = 300;
  return c;
}

class CheckoutTest : public ::testing::Test {
 protected:
  CheckoutTest() : env(CheckoutConfig()) { env.accrual.AddMember("m1", 5'000); }
  StatusOr<v1::Checkout> Start(int64_t basket, int64_t points, const std::string& key) {
    v1::StartCheckoutRequest request;
    request.set_member_id("m1");
    request.set_basket_amount_minor(basket);
    request.set_points(points);
    request.set_reference("order-1");
    request.set_idempotency_key(key);
    return env.core->StartCheckout(kTestCaller, request);
  }
  StatusOr<v1::Checkout> Complete(const std::string& id, int64_t points, const std::string& key) {
    v1::CompleteCheckoutRequest request;
    request.set_checkout_id(id);
    request.set_points(points);
    request.set_idempotency_key(key);
    return env.core->CompleteCheckout(kTestCaller, request);
  }
  RedemptionTestEnv env;
};

TEST_F(CheckoutTest, QuoteTakesTheSmallestOfShareAndBalanceRoundedDown) {
  v1::QuoteCheckoutRequest request;
  request.set_member_id("m1");
  request.set_basket_amount_minor(10'001);  // 30% = 3000.3 kopiyky = 1500.15 points -> 1500
  auto quote = env.core->QuoteCheckout(request);
  ASSERT_TRUE(quote.ok());
  EXPECT_EQ(quote->max_points(), 1'500);
  EXPECT_EQ(quote->max_discount_minor(), 3'000);
  request.set_basket_amount_minor(1'000'000);
  EXPECT_EQ(env.core->QuoteCheckout(request)->max_points(), 5'000);  // the balance
  request.set_basket_amount_minor(600);                              // 90 points < minimum 100
  quote = env.core->QuoteCheckout(request);
  EXPECT_EQ(quote->max_points(), 0);
  EXPECT_EQ(quote->reason().rfind("basket_amount_minor:", 0), 0u);
  request.set_basket_amount_minor(0);
  EXPECT_EQ(env.core->QuoteCheckout(request).status().message().rfind("basket_amount_minor:", 0),
            0u);
}

TEST_F(CheckoutTest, StartHoldsAndPartialCompleteReleasesTheRest) {
  EXPECT_EQ(Start(10'000, 1'600, "s0").status().message().rfind("points:", 0), 0u);  // > 1500
  EXPECT_EQ(Start(10'000, 50, "s0").status().message().rfind("points:", 0), 0u);     // < 100
  auto c = Start(10'000, 1'500, "s1");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->state(), v1::CHECKOUT_STATE_OPEN);
  EXPECT_EQ(env.accrual.Balance("m1").held(), 1'500);
  EXPECT_EQ(env.core->OpenCheckouts(), 1);
  EXPECT_EQ(Start(10'000, 1'500, "s1")->checkout_id(), c->checkout_id());  // a retry
  EXPECT_EQ(env.accrual.Balance("m1").held(), 1'500);

  auto done = Complete(c->checkout_id(), 1'000, "f1");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->state(), v1::CHECKOUT_STATE_COMPLETED);
  EXPECT_EQ(done->points_captured(), 1'000);
  EXPECT_EQ(done->discount_minor(), 2'000);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 4'000);
  EXPECT_EQ(env.accrual.Balance("m1").held(), 0);
  EXPECT_EQ(Complete(c->checkout_id(), 1'000, "f1")->points_captured(), 1'000);  // a retry
  EXPECT_EQ(Complete(c->checkout_id(), 1'000, "f2").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(env.core->OpenCheckouts(), 0);
}

TEST_F(CheckoutTest, CaptureAnswerLostIsResumedAfterRestart) {
  auto c = Start(100'000, 2'000, "s1");
  ASSERT_TRUE(c.ok());
  env.accrual.LoseAnswer("CaptureHold", 2);
  EXPECT_EQ(Complete(c->checkout_id(), 0, "f1").status().code(), Code::kUnavailable);
  env.Restart();
  EXPECT_EQ(env.core->ResumePending(), 0);
  auto got = env.core->GetCheckout(c->checkout_id());
  EXPECT_EQ(got->state(), v1::CHECKOUT_STATE_COMPLETED);
  EXPECT_EQ(got->points_captured(), 2'000);
  EXPECT_EQ(env.accrual.Balance("m1").lifetime_spent(), 2'000);
}

TEST_F(CheckoutTest, CancelVoidsAndAbandonedCheckoutsExpire) {
  auto c = Start(100'000, 2'000, "s1");
  ASSERT_TRUE(c.ok());
  v1::CancelCheckoutRequest cancel;
  cancel.set_checkout_id(c->checkout_id());
  cancel.set_idempotency_key("x1");
  auto cancelled = env.core->CancelCheckout(kTestCaller, cancel);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), v1::CHECKOUT_STATE_CANCELLED);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 5'000);

  auto abandoned = Start(100'000, 3'000, "s2");
  ASSERT_TRUE(abandoned.ok());
  EXPECT_EQ(env.accrual.Balance("m1").available(), 2'000);
  env.clock.Advance(300 * kSecondMs);
  EXPECT_EQ(env.core->ExpireCheckouts(), 1);
  EXPECT_EQ(env.core->OpenCheckouts(), 0);
  EXPECT_EQ(env.core->GetCheckout(abandoned->checkout_id())->state(), v1::CHECKOUT_STATE_EXPIRED);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 5'000);  // released by the hold's expiry
  EXPECT_EQ(Complete(abandoned->checkout_id(), 0, "late").status().code(),
            Code::kFailedPrecondition);
}

TEST_F(CheckoutTest, AnotherCallersSameKeyIsAnotherCallAndNeverGetsTheAnswer) {
  auto c = Start(10'000, 1'500, "s1");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->principal(), kTestCaller.value());
  auto done = Complete(c->checkout_id(), 1'000, "f1");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->finished_by(), kTestCaller.value());

  const Principal other("spiffe://loyalty/till/other-01");
  v1::CompleteCheckoutRequest complete;
  complete.set_checkout_id(c->checkout_id());
  complete.set_points(1'000);
  complete.set_idempotency_key("f1");
  auto theirs = env.core->CompleteCheckout(other, complete);
  EXPECT_EQ(theirs.status().code(), Code::kFailedPrecondition) << theirs.status().ToString();
  v1::CancelCheckoutRequest cancel;
  cancel.set_checkout_id(c->checkout_id());
  cancel.set_idempotency_key("f1");
  EXPECT_EQ(env.core->CancelCheckout(other, cancel).status().code(), Code::kFailedPrecondition);
  // The first caller's retry still gets its answer, and nothing moved twice.
  EXPECT_EQ(Complete(c->checkout_id(), 1'000, "f1")->points_captured(), 1'000);
  EXPECT_EQ(env.accrual.Balance("m1").lifetime_spent(), 1'000);
  EXPECT_EQ(env.accrual.Balance("m1").available(), 4'000);
}

TEST_F(CheckoutTest, NotEnoughPointsFailsTheCheckout) {
  env.accrual.AddMember("poor", 150);
  v1::StartCheckoutRequest request;
  request.set_member_id("poor");
  request.set_basket_amount_minor(100'000);
  request.set_points(200);
  request.set_idempotency_key("p1");
  auto c = env.core->StartCheckout(kTestCaller, request);
  EXPECT_EQ(c.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(c.status().message().rfind("points:", 0), 0u);
}

}  // namespace
}  // namespace loyalty::redemption

namespace loyalty::redemption {
namespace {

TEST(CheckoutCacheTest, FinishedCheckoutsLeaveMemoryOpenOnesStayUsable) {
  RedemptionConfig config = CheckoutConfig();
  config.cached_finished = 3;
  RedemptionTestEnv env(config);
  env.accrual.AddMember("m1", 1'000'000);
  auto start = [&](const std::string& key) {
    v1::StartCheckoutRequest request;
    request.set_member_id("m1");
    request.set_basket_amount_minor(100'000);
    request.set_points(1'000);
    request.set_idempotency_key(key);
    return env.core->StartCheckout(kTestCaller, request);
  };
  auto complete = [&](const std::string& id, const std::string& key) {
    v1::CompleteCheckoutRequest request;
    request.set_checkout_id(id);
    request.set_idempotency_key(key);
    return env.core->CompleteCheckout(kTestCaller, request);
  };
  auto open = start("open");
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  std::vector<std::string> finished;
  for (int i = 0; i < 20; ++i) {
    auto c = start("s" + std::to_string(i));
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(complete(c->checkout_id(), "c" + std::to_string(i)).ok());
    finished.push_back(c->checkout_id());
    EXPECT_LE(env.core->CachedCheckouts(), 7u);  // trimmed to 3 whenever it passes 6
  }
  auto first = env.core->GetCheckout(finished[0]);  // from the store
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->state(), v1::CHECKOUT_STATE_COMPLETED);
  EXPECT_EQ(first->points_captured(), 1'000);
  auto retried = complete(finished[0], "c0");  // a till's retry still gets its answer
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  auto done = complete(open->checkout_id(), "open-done");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->points_captured(), 1'000);
  EXPECT_EQ(env.accrual.Balance("m1").lifetime_spent(), 21'000);
  EXPECT_EQ(env.accrual.Balance("m1").held(), 0);
}

}  // namespace
}  // namespace loyalty::redemption
