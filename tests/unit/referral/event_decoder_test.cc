// The adapter's decoder and the facade's two ways in: records decoded one at a time as the
// core reaches them, or input decoded already; both must do the same.
#include "services/referral/event_decoder.h"

#include <gtest/gtest.h>

#include "tests/unit/referral/test_env.h"

namespace loyalty::referral {
namespace {

TEST(EventDecoderTest, AnEventBecomesItsCommandAndGarbageIsUndecodableWithItsReason) {
  ReferralTestEnv env;
  InputMessage purchase = env.Purchase("bob", "p1", 20'000);
  Command command = DecodeEvent(purchase);
  ASSERT_TRUE(std::holds_alternative<EventCmd>(command));
  EXPECT_EQ(std::get<EventCmd>(command).event.points_earned().purchase_id(), "p1");
  EXPECT_EQ(std::get<EventCmd>(command).event.member_id(), "bob");

  Command garbage = DecodeEvent(env.Message("garbage\xff"));
  ASSERT_TRUE(std::holds_alternative<Undecodable>(garbage));
  EXPECT_EQ(std::get<Undecodable>(garbage).kind, "undecodable");
  EXPECT_EQ(std::get<Undecodable>(garbage).reason, "value: not a protobuf loyalty.v1.LoyaltyEvent");
}

TEST(EventDecoderTest, DecodedInputAppliesAsTheRawBatchDoes) {
  ReferralTestEnv env;
  env.Enroll("alice", "+380671110001");
  env.Enroll("bob", "+380671110002");
  auto referral = env.Apply("bob", "alice");
  ASSERT_TRUE(referral.ok()) << referral.status().ToString();
  InputMessage purchase = env.Purchase("bob", "p1", 20'000);
  std::vector<Input> inputs;
  inputs.push_back(DecodeInput(purchase));
  inputs.push_back(DecodeInput(env.Message("garbage\xff")));
  inputs.push_back(DecodeInput(purchase));  // the same offset again
  EventBatchResult result = env.core->ApplyEvents(inputs);
  EXPECT_EQ(result.applied, 1);
  EXPECT_EQ(result.dead_lettered, 1);
  EXPECT_EQ(result.duplicates, 1);
  EXPECT_EQ(env.Get(referral->referral_id()).status(), v1::REFERRAL_STATUS_QUALIFIED);
}

}  // namespace
}  // namespace loyalty::referral
