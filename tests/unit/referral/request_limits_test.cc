// Referral's gRPC handlers and event decoder against the platform's field limits
// (common/field_limits.h): one over-limit case per field family with the boundary accepted,
// and the page-size rule on both List methods. Handlers are called directly on a real core.
#include <grpcpp/server_context.h>
#include <gtest/gtest.h>

#include <string>

#include "common/field_limits.h"
#include "services/referral/event_decoder.h"
#include "services/referral/grpc_service.h"
#include "tests/unit/referral/test_env.h"

namespace loyalty::referral {
namespace {

void ExpectRefused(const grpc::Status& status, const std::string& message) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(status.error_message(), message);
}

class RequestLimitsTest : public ::testing::Test {
 protected:
  RequestLimitsTest() : service(*env.core) {
    env.Enroll("alice", "+380671110001");
    env.Enroll("bob", "+380671110002");
  }

  ReferralTestEnv env;
  ReferralGrpcService service;
  grpc::ServerContext context;
};

TEST_F(RequestLimitsTest, IdsAndCodesOverTheirLimitAreRefusedNamingTheField) {
  v1::ApplyReferralRequest apply;
  apply.set_invitee_id("bob");
  apply.set_code(std::string(65, 'C'));
  apply.set_idempotency_key("a1");
  v1::Referral referral;
  ExpectRefused(service.ApplyReferral(&context, &apply, &referral), "code: 65 bytes, at most 64");

  apply.set_code(env.Code("alice"));
  apply.set_invitee_id(std::string(limits::kIdBytes + 1, 'b'));
  ExpectRefused(service.ApplyReferral(&context, &apply, &referral),
                "invitee_id: 129 bytes, at most 128");
  apply.set_invitee_id("bob");
  EXPECT_TRUE(service.ApplyReferral(&context, &apply, &referral).ok());

  v1::GetReferralCodeRequest get;
  get.set_member_id(std::string(1 << 20, 'm'));
  v1::ReferralCode code;
  ExpectRefused(service.GetReferralCode(&context, &get, &code),
                "member_id: 1048576 bytes, at most 128");
}

TEST_F(RequestLimitsTest, AReviewNoteAtItsLimitPassesTheCheckAndOneByteMoreIsRefused) {
  v1::ReviewReferralRequest review;
  review.set_referral_id("nope");
  review.set_actor("op");
  review.set_idempotency_key("r1");
  review.set_note(std::string(limits::kTextBytes, 'n'));
  v1::Referral referral;
  // At the limit the request reaches the core, which does not know the referral.
  EXPECT_EQ(service.ApproveReferral(&context, &review, &referral).error_code(),
            grpc::StatusCode::NOT_FOUND);
  review.set_note(std::string(limits::kTextBytes + 1, 'n'));
  ExpectRefused(service.ApproveReferral(&context, &review, &referral),
                "note: 1001 bytes, at most 1000");
  review.set_note("");
  review.set_actor(std::string(limits::kIdBytes + 1, 'o'));
  ExpectRefused(service.RejectReferral(&context, &review, &referral),
                "actor: 129 bytes, at most 128");
}

TEST_F(RequestLimitsTest, BothListMethodsFollowTheOnePageSizeRule) {
  v1::ListReferralsRequest mine;
  mine.set_member_id("alice");
  v1::ListHeldReferralsRequest held;
  v1::ListReferralsResponse page;
  for (int ok : {0, 1, limits::kMaxPageSize}) {
    mine.set_page_size(ok);
    held.set_page_size(ok);
    EXPECT_TRUE(service.ListReferrals(&context, &mine, &page).ok()) << ok;
    EXPECT_TRUE(service.ListHeldReferrals(&context, &held, &page).ok()) << ok;
  }
  for (int bad : {-1, limits::kMaxPageSize + 1, 100000}) {
    mine.set_page_size(bad);
    held.set_page_size(bad);
    for (const grpc::Status& status : {service.ListReferrals(&context, &mine, &page),
                                       service.ListHeldReferrals(&context, &held, &page)}) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
      EXPECT_EQ(status.error_message().rfind("page_size: ", 0), 0u) << status.error_message();
    }
  }
  held.set_page_size(0);
  held.set_page_token(std::string(513, 't'));
  ExpectRefused(service.ListHeldReferrals(&context, &held, &page),
                "page_token: 513 bytes, at most 512");
}

TEST_F(RequestLimitsTest, AnEventOverALimitIsDeadLetteredWithTheField) {
  v1::LoyaltyEvent event;
  event.set_event_id("bob:1");
  event.set_member_id(std::string(limits::kIdBytes + 1, 'b'));
  event.mutable_points_earned()->set_purchase_id("p1");
  Command command = DecodeEvent(env.Message(event.SerializeAsString()));
  ASSERT_TRUE(std::holds_alternative<Undecodable>(command));
  EXPECT_EQ(std::get<Undecodable>(command).kind, "invalid");
  EXPECT_EQ(std::get<Undecodable>(command).reason, "member_id: 129 bytes, at most 128");

  event.set_member_id("bob");
  event.mutable_points_earned()->mutable_breakdown()->set_tier(std::string(64, 't'));
  EXPECT_TRUE(
      std::holds_alternative<EventCmd>(DecodeEvent(env.Message(event.SerializeAsString()))));
  event.mutable_points_earned()->mutable_breakdown()->set_tier(std::string(65, 't'));
  Command long_tier = DecodeEvent(env.Message(event.SerializeAsString()));
  ASSERT_TRUE(std::holds_alternative<Undecodable>(long_tier));
  EXPECT_EQ(std::get<Undecodable>(long_tier).reason,
            "points_earned.breakdown.tier: 65 bytes, at most 64");
}

}  // namespace
}  // namespace loyalty::referral
