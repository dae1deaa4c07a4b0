// Redemption's gRPC handlers against the platform's field limits (common/field_limits.h): one
// over-limit case per field family with the boundary accepted, and the enum of ListRewards.
// The handlers are called directly on a real core with a fake accrual.
#include <grpcpp/server_context.h>
#include <gtest/gtest.h>

#include <string>

#include "common/field_limits.h"
#include "services/redemption/grpc_service.h"
#include "tests/unit/redemption/test_env.h"

namespace loyalty::redemption {
namespace {

void ExpectRefused(const grpc::Status& status, const std::string& message) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(status.error_message(), message);
}

class RequestLimitsTest : public ::testing::Test {
 protected:
  RequestLimitsTest() : service(*env.core) {}

  grpc::Status Create(v1::Reward reward, const std::string& key) {
    v1::CreateRewardRequest request;
    *request.mutable_reward() = std::move(reward);
    request.set_idempotency_key(key);
    grpc::ServerContext context;
    v1::Reward created;
    return service.CreateReward(&context, &request, &created);
  }

  RedemptionTestEnv env;
  RedemptionGrpcService service;
  grpc::ServerContext context;
};

TEST_F(RequestLimitsTest, NamesAndTextsAtTheirLimitAreAcceptedAndOneByteMoreIsRefused) {
  v1::Reward reward = RedemptionTestEnv::GiftCard("r1", 100, 10);
  reward.set_name(std::string(200, 'n'));
  reward.set_description(std::string(limits::kTextBytes, 'd'));
  EXPECT_TRUE(Create(reward, "k1").ok());

  reward.set_reward_id("r2");
  reward.set_name(std::string(201, 'n'));
  ExpectRefused(Create(reward, "k2"), "reward.name: 201 bytes, at most 200");
  reward.set_name("ok");
  reward.set_description(std::string(1 << 20, 'd'));
  ExpectRefused(Create(reward, "k3"), "reward.description: 1048576 bytes, at most 1000");

  v1::CancelRedemptionRequest cancel;
  cancel.set_redemption_id("x");
  cancel.set_reason(std::string(limits::kTextBytes + 1, 'r'));
  cancel.set_idempotency_key("c1");
  v1::Redemption redemption;
  ExpectRefused(service.CancelRedemption(&context, &cancel, &redemption),
                "reason: 1001 bytes, at most 1000");
}

TEST_F(RequestLimitsTest, IdsCodesAndReferencesOverTheirLimitAreRefused) {
  v1::GetRewardRequest get;
  get.set_reward_id(std::string(limits::kIdBytes + 1, 'r'));
  v1::Reward reward;
  ExpectRefused(service.GetReward(&context, &get, &reward), "reward_id: 129 bytes, at most 128");

  v1::ValidateVoucherRequest validate;
  validate.set_code(std::string(65, 'C'));
  v1::ValidateVoucherResponse validated;
  ExpectRefused(service.ValidateVoucher(&context, &validate, &validated),
                "code: 65 bytes, at most 64");

  v1::StartCheckoutRequest checkout;
  checkout.set_member_id("m1");
  checkout.set_reference(std::string(limits::kIdBytes + 1, 'o'));
  v1::Checkout started;
  ExpectRefused(service.StartCheckout(&context, &checkout, &started),
                "reference: 129 bytes, at most 128");
}

TEST_F(RequestLimitsTest, RepeatedFieldsOverTheirCountAreRefused) {
  v1::Reward reward = RedemptionTestEnv::GiftCard("r1", 100, 10);
  reward.mutable_visibility()->set_audience(v1::AUDIENCE_MEMBERS);
  for (int i = 0; i < 10001; ++i) reward.mutable_visibility()->add_values("m" + std::to_string(i));
  ExpectRefused(Create(reward, "k1"), "reward.visibility.values: 10001 values, at most 10000");
  reward.mutable_visibility()->mutable_values()->RemoveLast();
  EXPECT_TRUE(Create(reward, "k2").ok());

  reward.set_reward_id("r2");
  for (int i = 0; i < 1001; ++i) reward.add_store_ids("s" + std::to_string(i));
  ExpectRefused(Create(reward, "k3"), "reward.store_ids: 1001 values, at most 1000");
}

TEST_F(RequestLimitsTest, ListRewardsRefusesAnOrderItDoesNotKnow) {
  env.CreateReward(RedemptionTestEnv::GiftCard("r1", 100, 10));
  v1::ListRewardsRequest request;
  v1::ListRewardsResponse response;
  for (auto order : {v1::REWARD_ORDER_UNSPECIFIED, v1::REWARD_ORDER_NEWEST_FIRST}) {
    request.set_order(order);
    ASSERT_TRUE(service.ListRewards(&context, &request, &response).ok());
    EXPECT_EQ(response.offers_size(), 1);
  }
  request.set_order(static_cast<v1::RewardOrder>(42));
  ExpectRefused(service.ListRewards(&context, &request, &response),
                "order: 42 is not a RewardOrder");

  v1::Reward bad_kind = RedemptionTestEnv::GiftCard("r2", 100, 10);
  bad_kind.set_kind(static_cast<v1::RewardKind>(7));
  ExpectRefused(Create(bad_kind, "k1"), "reward.kind: 7 is not a RewardKind");
}

}  // namespace
}  // namespace loyalty::redemption
