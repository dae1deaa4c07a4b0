// The four services as processes, over real gRPC: a payload that does not decode is
// INVALID_ARGUMENT on every method of every service (blocking and callback handlers alike),
// health answers SERVING for each service's full name, and SIGTERM stops a service within a
// second while a client keeps an idle channel open, finishing the calls it had in flight.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <gtest/gtest.h>

#include "loyalty/v1/access.grpc.pb.h"
#include "loyalty/v1/accrual.grpc.pb.h"
#include "loyalty/v1/audit.grpc.pb.h"
#include "loyalty/v1/notification.grpc.pb.h"
#include "loyalty/v1/redemption.grpc.pb.h"
#include "loyalty/v1/referral.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

const std::string kGarbage = "\xff\xff\xff\xff\xff";  // an unterminated varint

// A unary call with a raw payload, on a completion queue of its own: this process then has
// no thread polling a channel between calls (as in a service that calls another with
// blocking stubs), which is what made an idle channel hold the server's stop.
grpc::Status CallUnary(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                       const std::string& request, std::string* response = nullptr) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::Status status;
  grpc::CompletionQueue cq;
  auto call = stub.PrepareUnaryCall(&context, method, request_buffer, &cq);
  call->StartCall();
  call->Finish(&response_buffer, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  EXPECT_TRUE(cq.Next(&tag, &ok));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  std::vector<grpc::Slice> slices;
  if (response != nullptr && status.ok() && response_buffer.Dump(&slices).ok()) {
    for (const auto& s : slices)
      response->append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return status;
}

std::string HealthRequest(const std::string& service) {
  if (service.empty()) return {};
  return std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
}

struct Service {
  std::string name;  // "accrual"
  const google::protobuf::ServiceDescriptor* descriptor;
};

// The descriptors through a message of each file, which also links the generated code in.
std::vector<Service> Services() {
  return {
      {"accrual", v1::GetBalanceRequest::descriptor()->file()->FindServiceByName("AccrualService")},
      {"accrual",
       v1::CreateApiKeyRequest::descriptor()->file()->FindServiceByName("AccessService")},
      {"redemption",
       v1::ListAuditLogRequest::descriptor()->file()->FindServiceByName("AuditService")},
      {"redemption",
       v1::GetRewardRequest::descriptor()->file()->FindServiceByName("RedemptionService")},
      {"referral",
       v1::GetReferralRequest::descriptor()->file()->FindServiceByName("ReferralService")},
      {"notification",
       v1::GetPreferencesRequest::descriptor()->file()->FindServiceByName("NotificationService")},
  };
}

class RuntimeGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override { kafka_ = std::make_unique<DevKafka>(dir_.Sub("kafka")); }

  std::unique_ptr<ServiceProcess> StartService(const std::string& name) {
    std::vector<std::string> flags;
    if (name != "accrual") flags.push_back("--accrual.address=127.0.0.1:1");
    auto service = std::make_unique<ServiceProcess>(name, dir_.path(), kafka_->bootstrap(), flags);
    service->Start();
    return service;
  }

  TempDir dir_;
  std::unique_ptr<DevKafka> kafka_;
};

TEST_F(RuntimeGrpcTest, EveryMethodRefusesAnUndecodablePayloadAndHealthNamesEachService) {
  for (const Service& s : Services()) {
    ASSERT_NE(s.descriptor, nullptr) << s.name;
    auto process = StartService(s.name);
    auto channel = grpc::CreateChannel(process->grpc_address(), TestChannelCredentials());
    for (int i = 0; i < s.descriptor->method_count(); ++i) {
      const auto* method = s.descriptor->method(i);
      const std::string path = "/" + s.descriptor->full_name() + "/" + method->name();
      grpc::Status status = CallUnary(channel, path, kGarbage);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << path;
      EXPECT_EQ(status.error_message(),
                "request does not decode as " + method->input_type()->full_name())
          << path;
    }
    for (const std::string& name : {std::string(), s.descriptor->full_name()}) {
      std::string response;
      grpc::Status status =
          CallUnary(channel, "/grpc.health.v1.Health/Check", HealthRequest(name), &response);
      ASSERT_TRUE(status.ok()) << "'" << name << "': " << status.error_message();
      EXPECT_EQ(response, std::string("\x08\x01", 2)) << "'" << name << "' is not SERVING";
    }
    process->Stop();
  }
}

TEST_F(RuntimeGrpcTest, SigtermStopsQuicklyWithAnIdleChannelOpen) {
  for (const Service& s : Services()) {
    auto process = StartService(s.name);
    auto idle = grpc::CreateChannel(process->grpc_address(), TestChannelCredentials());
    ASSERT_TRUE(CallUnary(idle, "/grpc.health.v1.Health/Check", "").ok()) << s.name;
    const auto start = steady_clock::now();
    process->process().Signal(SIGTERM);
    const int status = process->process().Wait(std::chrono::seconds(10));
    const auto took = steady_clock::now() - start;
    ASSERT_TRUE(WIFEXITED(status)) << s.name << " " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << s.name;
    // Without closing idle connections the stop takes about 5 s (gRPC's backup poller); with
    // it about 0.1 s. 2 s leaves room for a loaded machine.
    EXPECT_LT(took, milliseconds(2000))
        << s.name << " took " << std::chrono::duration_cast<milliseconds>(took).count() << " ms\n"
        << process->process().LogTail();
  }
}

// Calls keep coming on one channel while SIGTERM arrives, beside an idle channel: the stop is
// still quick, every call ends OK, UNAVAILABLE (refused: the server was stopping) or
// CANCELLED (gRPC's answer to a call that reached it as it stopped accepting them), and every
// call answered OK was applied: after a restart each enrolled member is there.
TEST_F(RuntimeGrpcTest, CallsRacingSigtermEndCleanlyAndWhatWasAcknowledgedStays) {
  auto process = StartService("accrual");
  auto channel = grpc::CreateChannel(process->grpc_address(), TestChannelCredentials());
  auto idle = grpc::CreateChannel(process->grpc_address(), TestChannelCredentials());
  ASSERT_TRUE(CallUnary(idle, "/grpc.health.v1.Health/Check", "").ok());
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> enrolled;  // guarded by mu
  std::vector<std::string> other;     // guarded by mu
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        v1::EnrollMemberRequest request;
        request.set_member_id("m-" + std::to_string(t) + "-" + std::to_string(i));
        request.set_email(request.member_id() + "@example.com");
        request.set_idempotency_key(request.member_id());
        grpc::Status status = CallUnary(channel, "/loyalty.v1.AccrualService/EnrollMember",
                                        request.SerializeAsString());
        std::lock_guard lock(mu);
        if (status.ok()) {
          enrolled.push_back(request.member_id());
        } else if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
                   status.error_code() != grpc::StatusCode::CANCELLED) {
          other.push_back(std::to_string(status.error_code()) + " " + status.error_message());
        }
        if (!status.ok()) return;
      }
    });
  }
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (enrolled.size() >= 50) break;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  const auto start = steady_clock::now();
  process->process().Signal(SIGTERM);
  const int status = process->process().Wait(std::chrono::seconds(10));
  const auto took = steady_clock::now() - start;
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // Calls in flight may take part of the grace; far from the 5 s of waiting on idle channels.
  EXPECT_LT(took, milliseconds(3000));
  EXPECT_TRUE(other.empty()) << other.front();

  process->Start();
  auto after = grpc::CreateChannel(process->grpc_address(), TestChannelCredentials());
  for (const auto& member_id : enrolled) {
    v1::GetMemberRequest request;
    request.set_member_id(member_id);
    std::string response;
    grpc::Status got = CallUnary(after, "/loyalty.v1.AccrualService/GetMember",
                                 request.SerializeAsString(), &response);
    EXPECT_TRUE(got.ok()) << member_id << " was acknowledged but is gone: " << got.error_message();
  }
  process->Stop();
}

}  // namespace
}  // namespace loyalty::testing
