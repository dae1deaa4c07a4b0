// Accrual's gRPC handlers and Kafka decoder against the platform's field limits
// (common/field_limits.h): one over-limit case per field family, the boundary accepted, the
// page-size rule and enums, and the ledger entry that says it repaid debt. The handlers are
// called directly on a real core; the callback handlers are covered by the integration test.
#include <grpcpp/server_context.h>
#include <gtest/gtest.h>

#include <string>

#include "common/field_limits.h"
#include "services/accrual/grpc_service.h"
#include "tests/unit/accrual/test_env.h"

namespace loyalty::accrual {
namespace {

class RequestLimitsTest : public ::testing::Test {
 protected:
  RequestLimitsTest() : service(*env.core) { env.Enroll("m1", "+380671234567"); }

  grpc::Status Award(const std::string& member_id, const std::string& reason,
                     const std::string& key, v1::LedgerEntry* entry = nullptr) {
    v1::AwardPointsRequest request;
    request.set_member_id(member_id);
    request.set_points(10);
    request.set_reason(reason);
    request.set_idempotency_key(key);
    grpc::ServerContext context;
    v1::LedgerEntry ignored;
    return service.AwardPoints(&context, &request, entry ? entry : &ignored);
  }

  AccrualTestEnv env;
  AccrualGrpcService service;
};

void ExpectRefused(const grpc::Status& status, const std::string& message) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(status.error_message(), message);
}

TEST_F(RequestLimitsTest, FreeTextAtItsLimitIsAcceptedAndOneByteMoreIsRefused) {
  EXPECT_TRUE(Award("m1", std::string(limits::kTextBytes, 'r'), "k1").ok());
  ExpectRefused(Award("m1", std::string(limits::kTextBytes + 1, 'r'), "k2"),
                "reason: 1001 bytes, at most 1000");
  // The 1 MB reason of the issue: refused before it can become a 1 MB event.
  ExpectRefused(Award("m1", std::string(1 << 20, 'r'), "k3"),
                "reason: 1048576 bytes, at most 1000");
  EXPECT_EQ(env.Balance("m1").available(), 10);
}

TEST_F(RequestLimitsTest, ABulkEnrolmentOfAThousandIsAcceptedAndOneMoreIsRefused) {
  v1::EnrollMembersRequest request;
  for (int i = 0; i < 1001; ++i) {
    v1::EnrollMemberRequest& member = *request.add_members();
    member.set_member_id("bulk-" + std::to_string(i));
    member.set_phone("+38050" + std::to_string(1'000'000 + i));
    member.set_idempotency_key("bulk-" + std::to_string(i));
  }
  v1::EnrollMembersResponse response;
  grpc::ServerContext refused_context;
  ExpectRefused(service.EnrollMembers(&refused_context, &request, &response),
                "members: 1001 values, at most 1000");
  EXPECT_EQ(env.core->MemberCount(), 1);
  request.mutable_members()->RemoveLast();
  // An element over its own limits is named by its path.
  request.mutable_members(7)->set_email(std::string(300, 'e'));
  grpc::ServerContext named_context;
  ExpectRefused(service.EnrollMembers(&named_context, &request, &response),
                "members[7].email: 300 bytes, at most 254");
  request.mutable_members(7)->clear_email();
  grpc::ServerContext context;
  ASSERT_TRUE(service.EnrollMembers(&context, &request, &response).ok());
  EXPECT_EQ(response.results_size(), 1000);
  EXPECT_EQ(env.core->MemberCount(), 1001);
}

TEST_F(RequestLimitsTest, IdsAndKeysOverTheirLimitAreRefusedNamingTheField) {
  ExpectRefused(Award(std::string(limits::kIdBytes + 1, 'm'), "r", "k1"),
                "member_id: 129 bytes, at most 128");
  ExpectRefused(Award("m1", "r", std::string(257, 'k')), "idempotency_key: 257 bytes, at most 256");

  v1::GetMemberRequest get;
  get.set_member_id(std::string(1000, 'm'));
  grpc::ServerContext context;
  v1::Member member;
  ExpectRefused(service.GetMember(&context, &get, &member), "member_id: 1000 bytes, at most 128");
}

TEST_F(RequestLimitsTest, ContactsOverTheirLimitAreRefusedAndTheErrorQuotesNoHugeValue) {
  v1::EnrollMemberRequest enroll;
  enroll.set_email(std::string(1 << 20, 'a') + "@example.com");
  enroll.set_idempotency_key("e1");
  grpc::ServerContext context;
  v1::Member member;
  grpc::Status status = service.EnrollMember(&context, &enroll, &member);
  ExpectRefused(status, "email: 1048588 bytes, at most 254");

  // Under the limit but invalid: the domain's message quotes a short prefix of the value.
  enroll.set_email(std::string(200, 'b'));
  status = service.EnrollMember(&context, &enroll, &member);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("…(200 bytes)"), std::string::npos)
      << status.error_message();
  EXPECT_LT(status.error_message().size(), 200u);
}

TEST_F(RequestLimitsTest, RepeatedFieldsOverTheirCountAreRefused) {
  v1::SetMemberSegmentsRequest request;
  request.set_member_id("m1");
  request.set_idempotency_key("s1");
  for (int i = 0; i < 100; ++i) request.add_segments("seg" + std::to_string(i));
  grpc::ServerContext context;
  v1::Member member;
  EXPECT_TRUE(service.SetMemberSegments(&context, &request, &member).ok());
  EXPECT_EQ(member.segments_size(), 100);
  request.add_segments("seg100");
  request.set_idempotency_key("s2");
  ExpectRefused(service.SetMemberSegments(&context, &request, &member),
                "segments: 101 values, at most 100");

  v1::CreateCampaignRequest campaign;
  campaign.mutable_campaign()->add_skus(std::string(limits::kIdBytes + 1, 's'));
  v1::Campaign created;
  ExpectRefused(service.CreateCampaign(&context, &campaign, &created),
                "campaign.skus[0]: 129 bytes, at most 128");
}

TEST_F(RequestLimitsTest, ListLedgerPageSizeFollowsTheOneRule) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Award("m1", "r", "a" + std::to_string(i)).ok());
  v1::ListLedgerRequest request;
  request.set_member_id("m1");
  grpc::ServerContext context;
  v1::ListLedgerResponse page;
  request.set_page_size(0);  // the default
  ASSERT_TRUE(service.ListLedger(&context, &request, &page).ok());
  EXPECT_GE(page.entries_size(), 3);
  request.set_page_size(limits::kMaxPageSize);
  EXPECT_TRUE(service.ListLedger(&context, &request, &page).ok());
  request.set_page_size(2);
  ASSERT_TRUE(service.ListLedger(&context, &request, &page).ok());
  EXPECT_EQ(page.entries_size(), 2);
  for (int bad : {limits::kMaxPageSize + 1, -1}) {
    request.set_page_size(bad);
    grpc::Status status = service.ListLedger(&context, &request, &page);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message().rfind("page_size: ", 0), 0u) << status.error_message();
  }
}

TEST_F(RequestLimitsTest, UnknownEnumValuesAreRefusedNamingTheField) {
  v1::CreateCampaignRequest request;
  v1::Campaign& c = *request.mutable_campaign();
  c.set_campaign_id("c1");
  c.set_name("double");
  c.set_effect(static_cast<v1::CampaignEffect>(42));
  c.set_value(20000);
  c.set_ends_at_ms(env.clock.NowMs() + 86'400'000);
  request.set_actor("op");
  request.set_idempotency_key("c1");
  grpc::ServerContext context;
  v1::Campaign created;
  ExpectRefused(service.CreateCampaign(&context, &request, &created),
                "campaign.effect: 42 is not a CampaignEffect");
}

TEST_F(RequestLimitsTest, AKafkaPurchaseOverALimitIsDeadLetteredWithTheField) {
  v1::PurchaseEvent purchase = AccrualTestEnv::MakePurchase("p1", "m1", 10'000);
  purchase.set_store_id(std::string(300, 's'));
  v1::PurchaseEvent ok = AccrualTestEnv::MakePurchase("p2", "m1", 10'000);
  ok.set_store_id(std::string(limits::kIdBytes, 's'));
  auto result = env.core->ApplyBatch({env.PurchaseOf(purchase), env.PurchaseOf(ok)});
  EXPECT_EQ(result.purchases_applied, 1);
  std::vector<v1::internal::OutboxRecord> dead;
  for (const auto& r : env.OutboxRecords()) {
    if (r.topic() == "loyalty.purchases.v1.dlq") dead.push_back(r);
  }
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].headers().at("reason_kind"), "invalid");
  EXPECT_EQ(dead[0].headers().at("reason"), "store_id: 300 bytes, at most 128");

  v1::PurchaseEvent lines = AccrualTestEnv::MakePurchase("p3", "m1", 10'000);
  for (int i = 0; i < 1001; ++i) lines.add_lines()->set_sku("s");
  Input input = env.PurchaseOf(lines);
  ASSERT_TRUE(std::holds_alternative<Undecodable>(input.command));
  EXPECT_EQ(std::get<Undecodable>(input.command).reason, "lines: 1001 values, at most 1000");
}

TEST_F(RequestLimitsTest, ACreditThatRepaysDebtSaysSoInItsReason) {
  v1::AdjustPointsRequest adjust;
  adjust.set_member_id("m1");
  adjust.set_delta(-50);
  adjust.set_reason("reverse a spent bonus");
  adjust.set_actor("op");
  adjust.set_allow_debt(true);
  adjust.set_idempotency_key("adj");
  grpc::ServerContext context;
  v1::LedgerEntry entry;
  ASSERT_TRUE(service.AdjustPoints(&context, &adjust, &entry).ok());
  ASSERT_EQ(env.Balance("m1").debt(), 50);

  v1::AwardPointsRequest award;
  award.set_member_id("m1");
  award.set_points(80);
  award.set_reason("goodwill");
  award.set_idempotency_key("award");
  ASSERT_TRUE(service.AwardPoints(&context, &award, &entry).ok());
  EXPECT_EQ(entry.reason(), "goodwill; +80, of which 50 repaid debt");
  EXPECT_EQ(entry.debt_delta(), -50);
  EXPECT_EQ(env.Balance("m1").available(), 30);
}

}  // namespace
}  // namespace loyalty::accrual
