// GrpcServer with generated services over real sockets: a request that does not decode is
// INVALID_ARGUMENT on every method of a blocking and of a callback service, health answers
// for each service's full name, and a graceful stop finishes a call in flight although it
// closes idle connections at once. (An idle channel holds the stop only when its client is in
// another process, which polls it only every 5 s: tests/integration/runtime tests that.)
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <google/protobuf/descriptor.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <gtest/gtest.h>

#include "common/grpc_server.h"
#include "common/metrics.h"
#include "loyalty/v1/accrual.grpc.pb.h"
#include "loyalty/v1/redemption.grpc.pb.h"

namespace loyalty {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// An unterminated varint: no protobuf message parses from it.
const std::string kGarbage = "\xff\xff\xff\xff\xff";

struct CallResult {
  grpc::Status status;
  std::string response;
};

CallResult CallUnary(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& request) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request_buffer, &response_buffer,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  CallResult result;
  result.status = done.get_future().get();
  std::vector<grpc::Slice> slices;
  if (result.status.ok() && response_buffer.Dump(&slices).ok()) {
    for (const auto& s : slices) {
      result.response.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return result;
}

std::shared_ptr<grpc::Channel> Connect(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureChannelCredentials());
}

// HealthCheckRequest{service = 1}; the response HealthCheckResponse{status = 1 (SERVING)}.
std::string HealthRequest(const std::string& service) {
  if (service.empty()) return {};
  return std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
}
const std::string kServing("\x08\x01", 2);

// Blocking (sync) handlers; GetBalance waits until released, to be in flight at will.
class BlockingAccrual : public v1::AccrualService::Service {
 public:
  grpc::Status GetBalance(grpc::ServerContext*, const v1::GetBalanceRequest* request,
                          v1::GetBalanceResponse* response) override {
    entered_.set_value();
    std::this_thread::sleep_for(milliseconds(400));
    response->set_member_id(request->member_id());
    return grpc::Status::OK;
  }
  std::future<void> Entered() { return entered_.get_future(); }

 private:
  std::promise<void> entered_;
};

class GrpcRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.AddService(&accrual_);
    server_.AddService(&redemption_);
    ASSERT_TRUE(server_.Start("127.0.0.1:0", grpc::InsecureServerCredentials()).ok());
    channel_ = Connect(server_.port());
  }

  Metrics metrics_;
  BlockingAccrual accrual_;
  v1::RedemptionService::CallbackService redemption_;  // every method a callback handler
  GrpcServer server_{metrics_};
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GrpcRuntimeTest, UndecodableRequestIsInvalidArgumentOnEveryMethod) {
  int methods = 0;
  for (const char* name : {"loyalty.v1.AccrualService", "loyalty.v1.RedemptionService"}) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      const std::string path = "/" + std::string(name) + "/" + method->name();
      CallResult result = CallUnary(channel_, path, kGarbage);
      EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << path;
      EXPECT_EQ(result.status.error_message(),
                "request does not decode as " + method->input_type()->full_name())
          << path;
      ++methods;
    }
  }
  EXPECT_GT(methods, 20);
  // A request that decodes reaches the handler: the callback service's default answer.
  EXPECT_EQ(CallUnary(channel_, "/loyalty.v1.RedemptionService/GetReward", "").status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GrpcRuntimeTest, HealthAnswersForEachServiceName) {
  for (const char* name : {"", "loyalty.v1.AccrualService", "loyalty.v1.RedemptionService"}) {
    CallResult result = CallUnary(channel_, "/grpc.health.v1.Health/Check", HealthRequest(name));
    ASSERT_TRUE(result.status.ok()) << "'" << name << "': " << result.status.error_message();
    EXPECT_EQ(result.response, kServing) << name;
  }
  EXPECT_EQ(CallUnary(channel_, "/grpc.health.v1.Health/Check", HealthRequest("loyalty.v1.Nope"))
                .status.error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcRuntimeTest, StopFinishesTheCallInFlight) {
  // An idle channel beside the call, which must not hold the stop either.
  auto idle = Connect(server_.port());
  ASSERT_TRUE(CallUnary(idle, "/grpc.health.v1.Health/Check", "").status.ok());
  std::future<void> entered = accrual_.Entered();
  v1::GetBalanceRequest request;
  request.set_member_id("m-1");
  auto call = std::async(std::launch::async, [&] {
    return CallUnary(channel_, "/loyalty.v1.AccrualService/GetBalance",
                     request.SerializeAsString());
  });
  ASSERT_EQ(entered.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto start = steady_clock::now();
  server_.Shutdown();
  server_.Wait();
  const auto stopped_after = steady_clock::now() - start;
  CallResult result = call.get();
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  v1::GetBalanceResponse response;
  ASSERT_TRUE(response.ParseFromString(result.response));
  EXPECT_EQ(response.member_id(), "m-1");
  EXPECT_LT(stopped_after, milliseconds(1500));
  // A new call after the stop is refused, not served.
  EXPECT_FALSE(CallUnary(Connect(server_.port()), "/grpc.health.v1.Health/Check", "").status.ok());
}

}  // namespace
}  // namespace loyalty
