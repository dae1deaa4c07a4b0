// The shipped roles against a real accrual process, each caller with its own certificate of
// the test CA: what each role may call, and the argument limits its handler enforces (a
// support agent's adjustment limit, the sources a service may award with, referral's
// reversal-only adjustments).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

#include "loyalty/v1/accrual.grpc.pb.h"
#include "loyalty/v1/audit.grpc.pb.h"
#include "tests/integration/accrual_client.h"
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

TEST_F(RolesIntegrationTest, TheAuditLogListsEachChangeWithItsPrincipalForAdminsOnly) {
  auto support = As("support-anna");
  ASSERT_TRUE(Adjust(*support, 300, "audited").ok());
  auto audit_as = [&](const std::string& name) {
    return v1::AuditService::NewStub(
        grpc::CreateChannel(accrual_->grpc_address(), TestChannelCredentials(name)));
  };
  v1::ListAuditLogRequest request;
  v1::ListAuditLogResponse response;
  ASSERT_TRUE(audit_as("loyaltyctl")->ListAuditLog(Context().get(), request, &response).ok());
  ASSERT_GE(response.records_size(), 2);  // the adjustment, then the seed award
  EXPECT_EQ(response.records(0).principal(), "spiffe://loyalty/support/anna");
  EXPECT_EQ(response.records(0).method(), "/loyalty.v1.AccrualService/AdjustPoints");
  EXPECT_EQ(response.records(1).principal(), "spiffe://loyalty/admin/loyaltyctl");
  EXPECT_EQ(response.records(1).method(), "/loyalty.v1.AccrualService/AwardPoints");
  EXPECT_EQ(
      audit_as("support-anna")->ListAuditLog(Context().get(), request, &response).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  int code = 0;
  std::string listed =
      RunShell(BinDir() + "/loyaltyctl audit --accrual=" + accrual_->grpc_address() +
                   TestPki::Get().CtlFlags() + " 2>&1",
               &code);
  EXPECT_EQ(code, 0) << listed;
  EXPECT_NE(listed.find("spiffe://loyalty/support/anna"), std::string::npos) << listed;
  EXPECT_NE(listed.find("AdjustPoints"), std::string::npos) << listed;
}

TEST_F(RolesIntegrationTest, APolicyReloadIsAuditedAndTakesEffectWithoutARestart) {
  accrual_->Stop();
  const std::string policy = dir_.Sub("policy.yaml");
  std::ofstream(policy) << "roles: {}\n";
  ServiceProcess accrual("accrual", dir_.path(), kafka_->bootstrap(),
                         {"--auth.policy_file=" + policy, "--auth.policy_refresh_seconds=1"});
  accrual.Start();
  auto till = v1::AccrualService::NewStub(
      grpc::CreateChannel(accrual.grpc_address(), TestChannelCredentials("till-example")));
  ASSERT_EQ(Adjust(*till, 10, "before").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // The till may now adjust: a new file, a second or so later, no restart.
  std::ofstream(policy) << "roles:\n  till:\n    methods: [\"/loyalty.v1.AccrualService/*\"]\n"
                           "    adjust_limit: 100\n";
  EXPECT_TRUE(
      Eventually([&] { return Adjust(*till, 10, "after").ok(); }, std::chrono::seconds(20)));
  auto audit = v1::AuditService::NewStub(
      grpc::CreateChannel(accrual.grpc_address(), TestChannelCredentials("loyaltyctl")));
  v1::ListAuditLogResponse response;
  ASSERT_TRUE(audit->ListAuditLog(Context().get(), {}, &response).ok());
  std::vector<std::string> methods;
  for (const auto& r : response.records()) methods.push_back(r.method());
  ASSERT_GE(methods.size(), 2u);
  EXPECT_EQ(methods[0], "/loyalty.v1.AccrualService/AdjustPoints");
  EXPECT_EQ(response.records(0).principal(), "spiffe://loyalty/till/example-01");
  EXPECT_EQ(methods[1], "policy reload");
  EXPECT_EQ(response.records(1).principal(), "policy-file");
}

}  // namespace
}  // namespace loyalty::testing
