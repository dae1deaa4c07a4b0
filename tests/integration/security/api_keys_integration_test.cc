// API keys through real processes: an admin creates a key on accrual (loyalty.v1.AccessService),
// a caller without a certificate uses it on accrual and on redemption, which learns it from
// the API keys topic; the key's role holds it to its methods; a revocation stops it on both
// without a restart; and a restarted service reads the keys again before it serves.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>

#include "loyalty/v1/access.grpc.pb.h"
#include "loyalty/v1/accrual.grpc.pb.h"
#include "loyalty/v1/audit.grpc.pb.h"
#include "loyalty/v1/redemption.grpc.pb.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

using std::chrono::seconds;

std::unique_ptr<grpc::ClientContext> Context(const std::string& api_key = "") {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + seconds(10));
  if (!api_key.empty()) context->AddMetadata("authorization", "Bearer " + api_key);
  return context;
}

class ApiKeysIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kafka_ = std::make_unique<DevKafka>(dir_.Sub("kafka"));
    // Callers without a certificate are let in to present a key.
    const std::string optional = "--grpc.tls.client_certificates=optional";
    accrual_ = std::make_unique<ServiceProcess>("accrual", dir_.path(), kafka_->bootstrap(),
                                                std::vector<std::string>{optional});
    accrual_->Start();
    redemption_ = std::make_unique<ServiceProcess>(
        "redemption", dir_.path(), kafka_->bootstrap(),
        std::vector<std::string>{optional, "--accrual.address=" + accrual_->grpc_address()});
    redemption_->Start();
    Connect();
    v1::EnrollMemberRequest enroll;
    enroll.set_member_id("m-1");
    enroll.set_phone("+380671234567");
    enroll.set_idempotency_key("enroll-m-1");
    v1::Member member;
    ASSERT_TRUE(accrual_admin_->EnrollMember(Context().get(), enroll, &member).ok());
  }

  // Channels again after a restart (the ports change).
  void Connect() {
    GrpcTlsSettings ca_only;
    ca_only.ca_file = TestPki::Get().ca_file();
    auto no_cert = ChannelCredentials(ca_only);
    auto admin = TestChannelCredentials("loyaltyctl");  // spiffe://loyalty/admin/loyaltyctl
    access_ = v1::AccessService::NewStub(grpc::CreateChannel(accrual_->grpc_address(), admin));
    accrual_admin_ =
        v1::AccrualService::NewStub(grpc::CreateChannel(accrual_->grpc_address(), admin));
    accrual_keyed_ =
        v1::AccrualService::NewStub(grpc::CreateChannel(accrual_->grpc_address(), no_cert));
    redemption_keyed_ =
        v1::RedemptionService::NewStub(grpc::CreateChannel(redemption_->grpc_address(), no_cert));
  }

  v1::CreateApiKeyResponse Create(const std::string& name, const std::string& role) {
    v1::CreateApiKeyRequest request;
    request.set_name(name);
    request.add_roles(role);
    v1::CreateApiKeyResponse response;
    grpc::Status status = access_->CreateApiKey(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status Balance(const std::string& key) {
    v1::GetBalanceRequest request;
    request.set_member_id("m-1");
    v1::GetBalanceResponse response;
    return accrual_keyed_->GetBalance(Context(key).get(), request, &response);
  }
  grpc::Status Adjust(const std::string& key) {
    v1::AdjustPointsRequest request;
    request.set_member_id("m-1");
    request.set_delta(100);
    request.set_reason("test");
    request.set_actor("test");
    request.set_idempotency_key("adjust-1");
    v1::LedgerEntry entry;
    return accrual_keyed_->AdjustPoints(Context(key).get(), request, &entry);
  }
  grpc::Status Rewards(const std::string& key) {
    v1::ListRewardsRequest request;
    v1::ListRewardsResponse response;
    return redemption_keyed_->ListRewards(Context(key).get(), request, &response);
  }

  TempDir dir_;
  std::unique_ptr<DevKafka> kafka_;
  std::unique_ptr<ServiceProcess> accrual_;
  std::unique_ptr<ServiceProcess> redemption_;
  std::unique_ptr<v1::AccessService::Stub> access_;
  std::unique_ptr<v1::AccrualService::Stub> accrual_admin_;
  std::unique_ptr<v1::AccrualService::Stub> accrual_keyed_;
  std::unique_ptr<v1::RedemptionService::Stub> redemption_keyed_;
};

TEST_F(ApiKeysIntegrationTest, AKeyWorksOnEveryServiceWithinItsRoleUntilRevoked) {
  EXPECT_EQ(Balance("").error_code(), grpc::StatusCode::UNAUTHENTICATED);  // no cert, no key
  v1::CreateApiKeyResponse key = Create("web-shop", "till");
  ASSERT_FALSE(key.secret().empty());
  EXPECT_EQ(key.key().created_by(), "spiffe://loyalty/admin/loyaltyctl");

  EXPECT_TRUE(Balance(key.secret()).ok()) << Balance(key.secret()).error_message();
  grpc::Status adjust = Adjust(key.secret());
  EXPECT_EQ(adjust.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(adjust.error_message().find("apikey:web-shop"), std::string::npos)
      << adjust.error_message();
  // Redemption has it from the topic.
  EXPECT_TRUE(Eventually([&] { return Rewards(key.secret()).ok(); }, seconds(15)))
      << Rewards(key.secret()).error_message() << "\n"
      << redemption_->process().LogTail();

  v1::ListApiKeysResponse listed;
  ASSERT_TRUE(access_->ListApiKeys(Context().get(), {}, &listed).ok());
  ASSERT_EQ(listed.keys_size(), 1);
  EXPECT_EQ(listed.keys(0).key_id(), key.key().key_id());
  EXPECT_EQ(listed.SerializeAsString().find(key.secret()), std::string::npos);

  v1::RevokeApiKeyRequest revoke;
  revoke.set_key_id(key.key().key_id());
  v1::ApiKey revoked;
  ASSERT_TRUE(access_->RevokeApiKey(Context().get(), revoke, &revoked).ok());
  EXPECT_NE(revoked.revoked_at_ms(), 0);
  EXPECT_EQ(Balance(key.secret()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Eventually(
      [&] { return Rewards(key.secret()).error_code() == grpc::StatusCode::UNAUTHENTICATED; },
      seconds(15)))
      << "redemption still takes the revoked key";
  // Both changes are in accrual's audit log, by the admin who made them.
  auto audit = v1::AuditService::NewStub(
      grpc::CreateChannel(accrual_->grpc_address(), TestChannelCredentials("loyaltyctl")));
  v1::ListAuditLogResponse log;
  ASSERT_TRUE(audit->ListAuditLog(Context().get(), {}, &log).ok());
  ASSERT_GE(log.records_size(), 2);
  EXPECT_EQ(log.records(0).method(), "/loyalty.v1.AccessService/RevokeApiKey");
  EXPECT_EQ(log.records(1).method(), "/loyalty.v1.AccessService/CreateApiKey");
  EXPECT_EQ(log.records(1).principal(), "spiffe://loyalty/admin/loyaltyctl");
  EXPECT_NE(log.records(1).detail().find(key.key().key_id()), std::string::npos);
  EXPECT_EQ(log.SerializeAsString().find(key.secret()), std::string::npos);
  // Revoking again answers the key as it is.
  v1::ApiKey again;
  ASSERT_TRUE(access_->RevokeApiKey(Context().get(), revoke, &again).ok());
  EXPECT_EQ(again.revoked_at_ms(), revoked.revoked_at_ms());
}

TEST_F(ApiKeysIntegrationTest, ARestartedServiceReadsTheKeysBeforeItServes) {
  v1::CreateApiKeyResponse kept = Create("pos-kyiv", "till");
  v1::CreateApiKeyResponse gone = Create("old-pos", "till");
  v1::RevokeApiKeyRequest revoke;
  revoke.set_key_id(gone.key().key_id());
  v1::ApiKey revoked;
  ASSERT_TRUE(access_->RevokeApiKey(Context().get(), revoke, &revoked).ok());

  accrual_->Stop();
  accrual_->Start();
  Connect();
  EXPECT_TRUE(Balance(kept.secret()).ok()) << Balance(kept.secret()).error_message();
  EXPECT_EQ(Balance(gone.secret()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::ListApiKeysRequest all;
  all.set_include_revoked(true);
  v1::ListApiKeysResponse listed;
  ASSERT_TRUE(access_->ListApiKeys(Context().get(), all, &listed).ok());
  EXPECT_EQ(listed.keys_size(), 2);
}

TEST_F(ApiKeysIntegrationTest, OnlyAnAdminCreatesKeysAndOnlyWithRolesThePolicyHas) {
  auto till = v1::AccessService::NewStub(
      grpc::CreateChannel(accrual_->grpc_address(), TestChannelCredentials("till-example")));
  v1::CreateApiKeyRequest request;
  request.set_name("sneaky");
  request.add_roles("admin");
  v1::CreateApiKeyResponse response;
  EXPECT_EQ(till->CreateApiKey(Context().get(), request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  request.set_name("typo");
  request.set_roles(0, "tlil");
  grpc::Status status = access_->CreateApiKey(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("roles:", 0), 0u) << status.error_message();

  v1::RevokeApiKeyRequest unknown;
  unknown.set_key_id("k0000000000000000");
  v1::ApiKey key;
  EXPECT_EQ(access_->RevokeApiKey(Context().get(), unknown, &key).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// Two keys on one connection: each call is its own key's (gRPC shares one AuthContext among
// a connection's calls, so nothing about a call may be kept there).
TEST_F(ApiKeysIntegrationTest, EachCallOnOneConnectionIsItsOwnKeys) {
  v1::CreateApiKeyResponse anna = Create("anna", "support");
  v1::CreateApiKeyResponse olha = Create("olha", "support");
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) {
    const bool odd = i % 2 == 1;
    v1::AdjustPointsRequest request;
    request.set_member_id("m-1");
    request.set_delta(10 + i);
    request.set_reason("alternating");
    request.set_actor("test");
    request.set_idempotency_key("alt-" + std::to_string(i));
    v1::LedgerEntry entry;
    grpc::Status status = accrual_keyed_->AdjustPoints(
        Context(odd ? olha.secret() : anna.secret()).get(), request, &entry);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(entry.principal(), odd ? "apikey:olha" : "apikey:anna") << i;
  }
}

// loyaltyctl as an operator uses it: create a key as admin, call as the key, list, revoke.
TEST_F(ApiKeysIntegrationTest, LoyaltyctlCreatesUsesListsAndRevokesAKey) {
  const std::string ctl = BinDir() + "/loyaltyctl --accrual=" + accrual_->grpc_address();
  const std::string as_admin = TestPki::Get().CtlFlags();
  int code = 0;
  std::string created =
      RunShell(ctl + " apikey create kiosk-7 --roles=till" + as_admin + " 2>&1", &code);
  ASSERT_EQ(code, 0) << created;
  auto at = created.find("lk_k");
  ASSERT_NE(at, std::string::npos) << created;
  const std::string secret = created.substr(at, created.find('\n', at) - at);
  EXPECT_NE(created.find("apikey:kiosk-7"), std::string::npos) << created;

  // A key and the CA only: no certificate of its own.
  const std::string as_key =
      " --api-key=" + secret + " --tls-ca=" + TestPki::Get().ca_file() + " 2>&1";
  std::string balance = RunShell(ctl + " balance m-1" + as_key, &code);
  EXPECT_EQ(code, 0) << balance;
  std::string adjust = RunShell(ctl + " adjust m-1 5 --reason=x --actor=y" + as_key, &code);
  EXPECT_EQ(code, 1) << adjust;
  EXPECT_NE(adjust.find("PERMISSION_DENIED"), std::string::npos) << adjust;

  std::string listed = RunShell(ctl + " apikey list" + as_admin + " 2>&1", &code);
  EXPECT_EQ(code, 0) << listed;
  EXPECT_NE(listed.find("kiosk-7"), std::string::npos) << listed;
  EXPECT_EQ(listed.find(secret), std::string::npos) << "a listing never shows a secret";
  const std::string key_id = secret.substr(3, 17);
  std::string revoked = RunShell(ctl + " apikey revoke " + key_id + as_admin + " 2>&1", &code);
  EXPECT_EQ(code, 0) << revoked;
  balance = RunShell(ctl + " balance m-1" + as_key, &code);
  EXPECT_EQ(code, 1) << balance;
  EXPECT_NE(balance.find("UNAUTHENTICATED"), std::string::npos) << balance;
}

// Every method of the services on these ports, called with an empty request by a caller with
// neither certificate nor key: UNAUTHENTICATED before any handler runs.
TEST_F(ApiKeysIntegrationTest, EveryMethodWithoutAnIdentityIsUnauthenticated) {
  GrpcTlsSettings ca_only;
  ca_only.ca_file = TestPki::Get().ca_file();
  struct Port {
    std::string address;
    const google::protobuf::ServiceDescriptor* service;
  };
  const std::vector<Port> ports = {
      {accrual_->grpc_address(),
       v1::GetBalanceRequest::descriptor()->file()->FindServiceByName("AccrualService")},
      {accrual_->grpc_address(),
       v1::CreateApiKeyRequest::descriptor()->file()->FindServiceByName("AccessService")},
      {redemption_->grpc_address(),
       v1::GetRewardRequest::descriptor()->file()->FindServiceByName("RedemptionService")},
      {redemption_->grpc_address(),
       v1::ListAuditLogRequest::descriptor()->file()->FindServiceByName("AuditService")},
  };
  int methods = 0;
  for (const Port& port : ports) {
    grpc::GenericStub stub(grpc::CreateChannel(port.address, ChannelCredentials(ca_only)));
    for (int i = 0; i < port.service->method_count(); ++i, ++methods) {
      const std::string path =
          "/" + port.service->full_name() + "/" + port.service->method(i)->name();
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + seconds(10));
      grpc::Slice empty("");
      grpc::ByteBuffer request(&empty, 1), response;
      std::promise<grpc::Status> done;
      stub.UnaryCall(&context, path, grpc::StubOptions(), &request, &response,
                     [&done](grpc::Status s) { done.set_value(std::move(s)); });
      grpc::Status status = done.get_future().get();
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << path << ": " << status.error_message();
    }
  }
  EXPECT_GE(methods, 30);  // the descriptors were found and walked
}

}  // namespace
}  // namespace loyalty::testing
