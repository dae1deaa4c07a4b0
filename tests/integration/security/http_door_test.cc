// The HTTP/JSON door of a real accrual process, called with curl as a user would: the same
// answer as gRPC for a call, Connect's error for each error class, the same identity (client
// certificate or API key) and policy, the caller in the ledger, and bad input (malformed JSON,
// unknown fields, a body over the limit, oversized headers) refused without harm to the
// process.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

#include "loyalty/v1/access.grpc.pb.h"
#include "loyalty/v1/accrual.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

struct Reply {
  int status = 0;
  std::string body;
};

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

class HttpDoorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kafka_ = std::make_unique<DevKafka>(dir_.Sub("kafka"));
    accrual_ = std::make_unique<ServiceProcess>(
        "accrual", dir_.path(), kafka_->bootstrap(),
        std::vector<std::string>{"--http.address=127.0.0.1:0", "--http.max_body_bytes=4096",
                                 "--grpc.tls.client_certificates=optional"});
    accrual_->Start();
    ASSERT_GT(accrual_->http_port(), 0);
    stub_ = v1::AccrualService::NewStub(
        grpc::CreateChannel(accrual_->grpc_address(), TestChannelCredentials()));
    Reply enrolled = Post("EnrollMember", R"({"memberId":"m-1","phone":"+380671234599",)"
                                          R"("idempotencyKey":"e-1"})");
    ASSERT_EQ(enrolled.status, 200) << enrolled.body;
  }

  // curl with a body file, a certificate (name; "" for none) and extra arguments.
  Reply Curl(const std::string& path, const std::string& body, const std::string& cert,
             const std::string& extra = "") {
    const std::string file = dir_.Sub("body-" + std::to_string(++requests_));
    std::ofstream(file) << body;
    const TestPki& pki = TestPki::Get();
    std::string command = "curl -sS -o " + file + ".out -w '%{http_code}' --cacert " +
                          pki.ca_file() + " -H 'Content-Type: application/json' --data-binary @" +
                          file + " " + extra;
    if (!cert.empty()) {
      command += " --cert " + pki.cert_file(cert) + " --key " + pki.key_file(cert);
    }
    command += " https://127.0.0.1:" + std::to_string(accrual_->http_port()) + path + " 2>&1";
    int code = 0;
    std::string out = RunShell(command, &code);
    Reply reply;
    reply.status = std::atoi(out.c_str());
    std::ifstream in(file + ".out");
    reply.body.assign(std::istreambuf_iterator<char>(in), {});
    if (reply.status == 0) reply.body = "curl: " + out + "\n" + accrual_->process().LogTail();
    return reply;
  }
  Reply Post(const std::string& method, const std::string& body,
             const std::string& cert = "loyaltyctl", const std::string& extra = "") {
    return Curl("/loyalty.v1.AccrualService/" + method, body, cert, extra);
  }

  TempDir dir_;
  std::unique_ptr<DevKafka> kafka_;
  std::unique_ptr<ServiceProcess> accrual_;
  std::unique_ptr<v1::AccrualService::Stub> stub_;
  int requests_ = 0;
};

TEST_F(HttpDoorTest, ACallAnswersWhatGrpcAnswers) {
  Reply awarded = Post("AwardPoints", R"({"memberId":"m-1","points":"250","reason":"welcome",)"
                                      R"("source":"goodwill","idempotencyKey":"a-1"})");
  ASSERT_EQ(awarded.status, 200) << awarded.body;
  v1::LedgerEntry entry;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(awarded.body, &entry).ok());
  EXPECT_EQ(entry.available_delta(), 250);
  EXPECT_EQ(entry.principal(), "spiffe://loyalty/admin/loyaltyctl");  // the door's caller

  Reply over_http = Post("GetBalance", R"({"memberId":"m-1"})");
  ASSERT_EQ(over_http.status, 200) << over_http.body;
  v1::GetBalanceResponse from_http, from_grpc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(over_http.body, &from_http).ok());
  v1::GetBalanceRequest request;
  request.set_member_id("m-1");
  ASSERT_TRUE(stub_->GetBalance(Context().get(), request, &from_grpc).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(from_http, from_grpc))
      << over_http.body;
  // snake_case field names are accepted too, as protobuf's JSON reading allows.
  EXPECT_EQ(Post("GetBalance", R"({"member_id":"m-1"})").status, 200);
}

TEST_F(HttpDoorTest, EachErrorClassIsConnectsStatusAndCode) {
  auto expect = [](const Reply& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.body.find("\"code\":\"" + code + "\""), std::string::npos) << r.body;
  };
  expect(Post("GetBalance", R"({"memberId":"nobody"})"), 404, "not_found");
  expect(Post("AwardPoints", R"({"memberId":"m-1","points":"0","reason":"x",)"
                             R"("idempotencyKey":"a-0"})"),
         400, "invalid_argument");
  expect(Post("EnrollMember", R"({"memberId":"m-1","phone":"+380671234598",)"
                              R"("idempotencyKey":"e-2"})"),
         409, "already_exists");
  expect(Post("GetBalance", R"({"memberId":"m-1"})", ""), 401, "unauthenticated");
  Reply denied = Post("AdjustPoints",
                      R"({"memberId":"m-1","delta":"5","reason":"x",)"
                      R"("actor":"y","idempotencyKey":"j-1"})",
                      "till-example");
  expect(denied, 403, "permission_denied");
  EXPECT_NE(denied.body.find("spiffe://loyalty/till/example-01"), std::string::npos);
  expect(Curl("/loyalty.v1.NoSuchService/Get", "{}", "loyaltyctl"), 404, "not_found");
}

TEST_F(HttpDoorTest, BadInputIsRefusedAndTheProcessCarriesOn) {
  auto expect = [](const Reply& r, int status, const std::string& mention) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.body.find(mention), std::string::npos) << r.body;
  };
  expect(Post("GetBalance", R"({"memberId":)"), 400, "invalid_argument");
  expect(Post("GetBalance", R"({"memberId":"m-1","colour":"red"})"), 400, "colour");
  expect(Post("AdjustPoints",
              R"({"memberId":"m-1","delta":"5","reason":")" + std::string(5000, 'x') + R"("})"),
         413, "body");
  expect(Post("GetBalance", R"({"memberId":"m-1"})", "loyaltyctl", "-H 'Content-Type: text/plain'"),
         415, "Content-Type");
  // A request head over 16 KiB, a chunked body, a GET, a certificate of another CA.
  EXPECT_EQ(Post("GetBalance", R"({"memberId":"m-1"})", "loyaltyctl",
                 "-H 'X-Padding: " + std::string(20'000, 'p') + "'")
                .status,
            431);
  EXPECT_EQ(
      Post("GetBalance", R"({"memberId":"m-1"})", "loyaltyctl", "-H 'Transfer-Encoding: chunked'")
          .status,
      411);
  EXPECT_EQ(Post("GetBalance", "", "loyaltyctl", "-G").status, 405);
  const std::string other = TestPki::Get().OtherCaDir();
  Reply stranger = Post("GetBalance", R"({"memberId":"m-1"})", "",
                        "--cert " + other + "/stranger.pem --key " + other + "/stranger.key");
  EXPECT_EQ(stranger.status, 0) << "the handshake must fail: " << stranger.body;
  // A field over its limit is named, as on gRPC.
  expect(Post("GetBalance", R"({"memberId":")" + std::string(200, 'm') + R"("})"), 400,
         "member_id");
  EXPECT_EQ(Post("GetBalance", R"({"memberId":"m-1"})").status, 200);
}

TEST_F(HttpDoorTest, AnApiKeyWorksAtTheDoorAsOnGrpc) {
  auto access = v1::AccessService::NewStub(
      grpc::CreateChannel(accrual_->grpc_address(), TestChannelCredentials()));
  v1::CreateApiKeyRequest create;
  create.set_name("web-shop");
  create.add_roles("till");
  v1::CreateApiKeyResponse key;
  ASSERT_TRUE(access->CreateApiKey(Context().get(), create, &key).ok());
  const std::string bearer = "-H 'Authorization: Bearer " + key.secret() + "'";
  EXPECT_EQ(Post("GetBalance", R"({"memberId":"m-1"})", "", bearer).status, 200);
  Reply denied = Post("AdjustPoints",
                      R"({"memberId":"m-1","delta":"5","reason":"x",)"
                      R"("actor":"y","idempotencyKey":"j-2"})",
                      "", bearer);
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_NE(denied.body.find("apikey:web-shop"), std::string::npos) << denied.body;
  EXPECT_EQ(Post("GetBalance", R"({"memberId":"m-1"})", "",
                 "-H 'Authorization: Bearer lk_k0000000000000000_" + std::string(64, '0') + "'")
                .status,
            401);
}

// The door's grant travels in metadata with a token only the process knows: an outside
// caller sending the same headers over gRPC gets nothing from them.
TEST_F(HttpDoorTest, TheDoorsHeadersFromOutsideGrantNothing) {
  auto till = v1::AccrualService::NewStub(
      grpc::CreateChannel(accrual_->grpc_address(), TestChannelCredentials("till-example")));
  grpc::ClientContext context;
  context.AddMetadata("x-loyalty-door-token", std::string(64, 'a'));
  context.AddMetadata("x-loyalty-door-principal", "spiffe://loyalty/admin/forged");
  v1::AdjustPointsRequest adjust;
  adjust.set_member_id("m-1");
  adjust.set_delta(5);
  adjust.set_reason("x");
  adjust.set_actor("y");
  adjust.set_idempotency_key("forged");
  v1::LedgerEntry entry;
  EXPECT_EQ(till->AdjustPoints(&context, adjust, &entry).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace loyalty::testing
