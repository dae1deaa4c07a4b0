// A gRPC client of accrual for tests, with helpers that wait for asynchronous effects.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "loyalty/v1/accrual.grpc.pb.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {

class AccrualClient {
 public:
  explicit AccrualClient(const std::string& address)
      : stub_(v1::AccrualService::NewStub(grpc::CreateChannel(address, TestChannelCredentials()))) {
  }

  grpc::Status Enroll(const std::string& member_id, const std::string& phone,
                      v1::Member* member = nullptr) {
    v1::EnrollMemberRequest request;
    request.set_member_id(member_id);
    request.set_phone(phone);
    request.set_idempotency_key("enroll-" + member_id);
    v1::Member ignored;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->EnrollMember(&context, request, member ? member : &ignored);
  }

  grpc::Status Balance(const std::string& member_id, v1::Balance* balance) {
    v1::GetBalanceRequest request;
    request.set_member_id(member_id);
    v1::GetBalanceResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status status = stub_->GetBalance(&context, request, &response);
    *balance = response.balance();
    return status;
  }

  v1::AccrualService::Stub& stub() { return *stub_; }

 private:
  std::unique_ptr<v1::AccrualService::Stub> stub_;
};

// Polls until done() or the timeout; returns done()'s last answer.
inline bool Eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

}  // namespace loyalty::testing
