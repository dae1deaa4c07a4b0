// common/auth/authorizer.h and common/grpc_tls.h over real mutual TLS on loopback: a
// GrpcServer with the test CA's accrual certificate and the shipped policy, called with the
// test CA's certificates (and another CA's). The server registers no loyalty service, so a
// call that passes authorisation answers UNIMPLEMENTED and one that does not answers
// UNAUTHENTICATED or PERMISSION_DENIED before any handler could run.
#include "common/auth/authorizer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>

#include "common/auth/api_keys.h"
#include "common/grpc_server.h"
#include "common/grpc_tls.h"
#include "common/metrics.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::auth {
namespace {

using testing::TestPki;

constexpr char kAdjust[] = "/loyalty.v1.AccrualService/AdjustPoints";
constexpr char kGetBalance[] = "/loyalty.v1.AccrualService/GetBalance";
constexpr char kHealth[] = "/grpc.health.v1.Health/Check";

struct Answer {
  grpc::Status status;
  std::string server_cert;  // the server's PEM certificate as the client saw it
};

Answer Call(int port, std::shared_ptr<grpc::ChannelCredentials> credentials,
            const std::string& method, const std::string& bearer = "") {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), credentials);
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!bearer.empty()) context.AddMetadata("authorization", "Bearer " + bearer);
  grpc::ByteBuffer request, response;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  Answer answer;
  answer.status = done.get_future().get();
  if (auto auth = context.auth_context()) {
    auto pem = auth->FindPropertyValues("x509_pem_cert");
    if (!pem.empty()) answer.server_cert.assign(pem.front().data(), pem.front().size());
  }
  return answer;
}

class AuthorizerTest : public ::testing::Test {
 protected:
  void Start(ClientCertificates mode = ClientCertificates::kRequire,
             const ApiKeyVerifier* keys = nullptr) {
    const TestPki& pki = TestPki::Get();
    // A server certificate of its own in a folder of its own, so that rotating it here does
    // not disturb the other tests' "accrual".
    std::filesystem::copy_file(pki.cert_file("accrual"), dir_.Sub("server.pem"));
    std::filesystem::copy_file(pki.key_file("accrual"), dir_.Sub("server.key"));
    settings_.cert_file = dir_.Sub("server.pem");
    settings_.key_file = dir_.Sub("server.key");
    settings_.ca_file = pki.ca_file();
    settings_.client_certificates = mode;
    settings_.refresh_seconds = 1;
    policy_ = std::make_shared<PolicySource>(Policy::Defaults());
    auto authorizer = std::make_shared<Authorizer>(policy_, keys);
    ASSERT_TRUE(server_.Start("127.0.0.1:0", ServerCredentials(settings_, authorizer)).ok());
  }

  std::shared_ptr<grpc::ChannelCredentials> As(const std::string& name) {
    return testing::TestChannelCredentials(name);
  }

  testing::TempDir dir_;
  Metrics metrics_;
  GrpcServer server_{metrics_};
  GrpcTlsSettings settings_;
  std::shared_ptr<PolicySource> policy_;
};

TEST_F(AuthorizerTest, ARoleMayCallItsMethodsAndNothingElse) {
  Start();
  EXPECT_EQ(Call(server_.port(), As("till-example"), kGetBalance).status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);  // allowed: no handler here
  Answer denied = Call(server_.port(), As("till-example"), kAdjust);
  EXPECT_EQ(denied.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(denied.status.error_message().find("spiffe://loyalty/till/example-01"),
            std::string::npos)
      << denied.status.error_message();
  EXPECT_NE(denied.status.error_message().find(kAdjust), std::string::npos);
  EXPECT_EQ(Call(server_.port(), As("loyaltyctl"), kAdjust).status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);  // admin
  EXPECT_TRUE(Call(server_.port(), As("till-example"), kHealth).status.ok());
}

TEST_F(AuthorizerTest, RedemptionMayHoldButNotErase) {
  Start();
  EXPECT_EQ(Call(server_.port(), As("redemption"), "/loyalty.v1.AccrualService/HoldPoints")
                .status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(Call(server_.port(), As("redemption"), "/loyalty.v1.AccrualService/EraseMember")
                .status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AuthorizerTest, ACertificateFromAnotherCaIsRefusedInTheHandshake) {
  Start();
  const TestPki& pki = TestPki::Get();
  std::string other = pki.OtherCaDir();
  GrpcTlsSettings stranger;
  stranger.cert_file = other + "/stranger.pem";
  stranger.key_file = other + "/stranger.key";
  stranger.ca_file = pki.ca_file();  // it trusts the server; the server does not trust it
  Answer answer = Call(server_.port(), ChannelCredentials(stranger), kHealth);
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << answer.status.error_message();
}

TEST_F(AuthorizerTest, NoCertificateIsRefusedAndWithOptionalCertificatesIsUnauthenticated) {
  Start(ClientCertificates::kOptional);
  GrpcTlsSettings no_cert;
  no_cert.ca_file = TestPki::Get().ca_file();
  Answer answer = Call(server_.port(), ChannelCredentials(no_cert), kGetBalance);
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << answer.status.error_message();
  // A bearer token where no API keys are configured is no identity either.
  EXPECT_EQ(
      Call(server_.port(), ChannelCredentials(no_cert), kGetBalance, "lk_abc").status.error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthorizerTest, AnApiKeyIsItsOwnPrincipalUntilRevokedOrExpired) {
  ManualClock clock;
  ApiKeyBook book(clock);
  v1::CreateApiKeyRequest request;
  request.set_name("web-shop");
  request.add_roles("till");
  request.set_expires_at_ms(clock.NowMs() + kDayMs);
  auto minted = MintApiKey(request, "spiffe://loyalty/admin/ops", clock.NowMs());
  ASSERT_TRUE(minted.ok()) << minted.status().message();
  ASSERT_TRUE(book.Apply(minted->record).ok());
  Start(ClientCertificates::kOptional, &book);
  GrpcTlsSettings no_cert;
  no_cert.ca_file = TestPki::Get().ca_file();
  auto channel = ChannelCredentials(no_cert);
  const std::string secret = minted->secret;

  EXPECT_EQ(Call(server_.port(), channel, kGetBalance, secret).status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);  // the till role allows it; no handler here
  Answer denied = Call(server_.port(), channel, kAdjust, secret);
  EXPECT_EQ(denied.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(denied.status.error_message().find("apikey:web-shop"), std::string::npos)
      << denied.status.error_message();
  // The key outranks the certificate: an admin's certificate with the till's key is a till.
  EXPECT_EQ(Call(server_.port(), As("loyaltyctl"), kAdjust, secret).status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  std::string wrong = secret;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_EQ(Call(server_.port(), channel, kGetBalance, wrong).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  clock.Advance(kDayMs);
  EXPECT_EQ(Call(server_.port(), channel, kGetBalance, secret).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);  // expired
  clock.Advance(-kDayMs);
  v1::ApiKeyRecord revoked = minted->record;
  revoked.mutable_key()->set_revoked_at_ms(clock.NowMs());
  ASSERT_TRUE(book.Apply(revoked).ok());
  EXPECT_EQ(Call(server_.port(), channel, kGetBalance, secret).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthorizerTest, APrincipalWithoutARoleIsUnauthenticated) {
  Start();
  TestPki::Get().Issue("nobody", "spiffe://loyalty/unknown/nobody");
  Answer answer = Call(server_.port(), As("nobody"), kHealth);
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << answer.status.error_message();
}

TEST_F(AuthorizerTest, ANewPolicyTakesEffectForTheNextCall) {
  Start();
  ASSERT_EQ(Call(server_.port(), As("till-example"), kAdjust).status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto wider =
      Policy::FromYaml("roles: {till: {methods: [\"/loyalty.v1.AccrualService/AdjustPoints\"]}}");
  ASSERT_TRUE(wider.ok());
  policy_->Set(std::move(*wider));
  EXPECT_EQ(Call(server_.port(), As("till-example"), kAdjust).status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(AuthorizerTest, ARotatedServerCertificateIsServedWithoutARestart) {
  Start();
  Answer before = Call(server_.port(), As("till-example"), kHealth);
  ASSERT_TRUE(before.status.ok());
  ASSERT_FALSE(before.server_cert.empty());
  // A new certificate for the same identity, written over the served files.
  const TestPki& pki = TestPki::Get();
  pki.Issue("accrual-rotated", "spiffe://loyalty/service/accrual");
  std::filesystem::copy_file(pki.key_file("accrual-rotated"), dir_.Sub("server.key.new"));
  std::filesystem::copy_file(pki.cert_file("accrual-rotated"), dir_.Sub("server.pem.new"));
  std::filesystem::rename(dir_.Sub("server.key.new"), dir_.Sub("server.key"));
  std::filesystem::rename(dir_.Sub("server.pem.new"), dir_.Sub("server.pem"));
  std::string served;
  for (int i = 0; i < 100 && (served.empty() || served == before.server_cert); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Answer after = Call(server_.port(), As("till-example"), kHealth);  // a new connection
    ASSERT_TRUE(after.status.ok()) << after.status.error_message();
    served = after.server_cert;
  }
  EXPECT_NE(served, before.server_cert) << "the old certificate is still served";
  std::ifstream rotated(pki.cert_file("accrual-rotated"));
  std::string rotated_pem((std::istreambuf_iterator<char>(rotated)), {});
  EXPECT_EQ(served, rotated_pem);
}

}  // namespace
}  // namespace loyalty::auth
