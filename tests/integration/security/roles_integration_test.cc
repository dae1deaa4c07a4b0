// The shipped roles against a real accrual process, each caller with its own certificate of
// the test CA: what each role may call, and the argument limits its handler enforces (a
// support agent's adjustment limit, the sources a service may award with, referral's
// reversal-only adjustments).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "loyalty/v1/accrual.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

class RolesIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestPki::Get().Issue("support-anna", "spiffe://loyalty/support/anna");
    TestPki::Get().Issue("marketing-olha", "spiffe://loyalty/marketing/olha");
  }

  void SetUp() override {
    kafka_ = std::make_unique<DevKafka>(dir_.Sub("kafka"));
    accrual_ = std::make_unique<ServiceProcess>("accrual", dir_.path(), kafka_->bootstrap());
    accrual_->Start();
    auto admin = As("loyaltyctl");
    v1::EnrollMemberRequest enroll;
    enroll.set_member_id("m-1");
    enroll.set_phone("+380671234500");
    enroll.set_idempotency_key("enroll");
    v1::Member member;
    ASSERT_TRUE(admin->EnrollMember(Context().get(), enroll, &member).ok());
    // Something to adjust downwards and to hold.
    ASSERT_TRUE(Award(*admin, 10'000, "goodwill", "seed").ok());
  }

  std::unique_ptr<v1::AccrualService::Stub> As(const std::string& name) {
    return v1::AccrualService::NewStub(
        grpc::CreateChannel(accrual_->grpc_address(), TestChannelCredentials(name)));
  }

  static grpc::Status Award(v1::AccrualService::Stub& stub, int64_t points,
                            const std::string& source, const std::string& key) {
    v1::AwardPointsRequest request;
    request.set_member_id("m-1");
    request.set_points(points);
    request.set_reason("test");
    request.set_source(source);
    request.set_idempotency_key(key);
    v1::LedgerEntry entry;
    return stub.AwardPoints(Context().get(), request, &entry);
  }
  static grpc::Status Adjust(v1::AccrualService::Stub& stub, int64_t delta,
                             const std::string& key) {
    v1::AdjustPointsRequest request;
    request.set_member_id("m-1");
    request.set_delta(delta);
    request.set_reason("test");
    request.set_actor("test");
    request.set_idempotency_key(key);
    v1::LedgerEntry entry;
    return stub.AdjustPoints(Context().get(), request, &entry);
  }

  TempDir dir_;
  std::unique_ptr<DevKafka> kafka_;
  std::unique_ptr<ServiceProcess> accrual_;
};

TEST_F(RolesIntegrationTest, SupportAdjustsWithinItsLimitOnly) {
  auto support = As("support-anna");
  EXPECT_TRUE(Adjust(*support, 5000, "within").ok());
  // The ledger names who made the change, whatever the caller typed as actor.
  v1::ListLedgerRequest list;
  list.set_member_id("m-1");
  v1::ListLedgerResponse ledger;
  ASSERT_TRUE(As("loyaltyctl")->ListLedger(Context().get(), list, &ledger).ok());
  ASSERT_GE(ledger.entries_size(), 2);
  EXPECT_EQ(ledger.entries(0).principal(), "spiffe://loyalty/support/anna");
  EXPECT_EQ(ledger.entries(1).principal(), "spiffe://loyalty/admin/loyaltyctl");
  EXPECT_TRUE(Adjust(*support, -5000, "within-down").ok());
  grpc::Status over = Adjust(*support, 5001, "over");
  EXPECT_EQ(over.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(over.error_message().find("delta"), std::string::npos) << over.error_message();
  EXPECT_NE(over.error_message().find("spiffe://loyalty/support/anna"), std::string::npos)
      << over.error_message();
  EXPECT_EQ(Award(*support, 10, "goodwill", "award").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // not a support method
}

TEST_F(RolesIntegrationTest, ReferralAwardsOnlyWithItsSourceAndOnlyReverses) {
  auto referral = As("referral");
  EXPECT_TRUE(Award(*referral, 100, "referral", "own").ok());
  grpc::Status other = Award(*referral, 100, "goodwill", "other");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(other.error_message().find("source"), std::string::npos) << other.error_message();
  EXPECT_TRUE(Adjust(*referral, -100, "reverse").ok());
  EXPECT_EQ(Adjust(*referral, 100, "up").error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(RolesIntegrationTest, RedemptionHoldsAndCapturesButCannotEraseOrAwardAsOthers) {
  auto redemption = As("redemption");
  v1::HoldPointsRequest hold;
  hold.set_member_id("m-1");
  hold.set_points(500);
  hold.set_idempotency_key("hold");
  v1::Hold held;
  ASSERT_TRUE(redemption->HoldPoints(Context().get(), hold, &held).ok());
  v1::CaptureHoldRequest capture;
  capture.set_hold_id(held.hold_id());
  capture.set_idempotency_key("capture");
  v1::Hold captured;
  EXPECT_TRUE(redemption->CaptureHold(Context().get(), capture, &captured).ok());
  v1::EraseMemberRequest erase;
  erase.set_member_id("m-1");
  erase.set_idempotency_key("erase");
  v1::EraseMemberResponse erased;
  EXPECT_EQ(redemption->EraseMember(Context().get(), erase, &erased).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Award(*redemption, 100, "referral", "as-referral").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Award(*redemption, 100, "redemption", "own").ok());
}

TEST_F(RolesIntegrationTest, TillAndMarketingStayInTheirLanes) {
  auto till = As("till-example");
  EXPECT_EQ(Adjust(*till, 10, "till-adjust").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::CreateCampaignRequest campaign;
  campaign.set_idempotency_key("campaign");
  v1::Campaign created;
  EXPECT_EQ(till->CreateCampaign(Context().get(), campaign, &created).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto marketing = As("marketing-olha");
  // Allowed through the policy: the empty campaign is then refused by the handler.
  EXPECT_EQ(marketing->CreateCampaign(Context().get(), campaign, &created).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Adjust(*marketing, 10, "marketing-adjust").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace loyalty::testing
