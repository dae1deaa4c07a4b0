#include "common/grpc_accrual_client.h"

#include <grpcpp/grpcpp.h>

#include "common/grpc_status.h"

namespace loyalty {
namespace {

template <typename Response, typename Call>
StatusOr<Response> Invoke(std::chrono::milliseconds deadline, Call call) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  Response response;
  grpc::Status status = call(&context, &response);
  if (!status.ok()) return FromGrpc(status);
  return response;
}

// One asynchronous call: what must live until gRPC calls back.
template <typename Request, typename Response>
struct AsyncCall {
  grpc::ClientContext context;
  Request request;
  Response response;
};

template <typename Response, typename Request, typename Start>
void InvokeAsync(std::chrono::milliseconds deadline, const Request& request,
                 std::function<void(StatusOr<Response>)> done, Start start) {
  auto call = std::make_shared<AsyncCall<Request, Response>>();
  call->context.set_deadline(std::chrono::system_clock::now() + deadline);
  call->request = request;
  start(&call->context, &call->request, &call->response,
        [call, done = std::move(done)](grpc::Status status) {
          if (!status.ok()) return done(FromGrpc(status));
          done(std::move(call->response));
        });
}

// Reconnect quickly after accrual restarts: gRPC's default backoff grows to two minutes,
// during which sagas and awards would wait for a service that is back.
std::shared_ptr<grpc::Channel> Channel(const std::string& address,
                                       std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  return grpc::CreateCustomChannel(address, std::move(credentials), args);
}

}  // namespace

GrpcAccrualClient::GrpcAccrualClient(const std::string& address,
                                     std::shared_ptr<grpc::ChannelCredentials> credentials,
                                     std::chrono::milliseconds deadline)
    : stub_(v1::AccrualService::NewStub(Channel(address, std::move(credentials)))),
      deadline_(deadline) {}

StatusOr<v1::Hold> GrpcAccrualClient::HoldPoints(const v1::HoldPointsRequest& request) {
  return Invoke<v1::Hold>(deadline_,
                          [&](auto* c, auto* r) { return stub_->HoldPoints(c, request, r); });
}

StatusOr<v1::Hold> GrpcAccrualClient::CaptureHold(const v1::CaptureHoldRequest& request) {
  return Invoke<v1::Hold>(deadline_,
                          [&](auto* c, auto* r) { return stub_->CaptureHold(c, request, r); });
}

void GrpcAccrualClient::HoldPointsAsync(const v1::HoldPointsRequest& request, HoldCallback done) {
  InvokeAsync<v1::Hold>(deadline_, request, std::move(done),
                        [&](auto* c, auto* q, auto* r, auto callback) {
                          stub_->async()->HoldPoints(c, q, r, std::move(callback));
                        });
}

void GrpcAccrualClient::CaptureHoldAsync(const v1::CaptureHoldRequest& request, HoldCallback done) {
  InvokeAsync<v1::Hold>(deadline_, request, std::move(done),
                        [&](auto* c, auto* q, auto* r, auto callback) {
                          stub_->async()->CaptureHold(c, q, r, std::move(callback));
                        });
}

StatusOr<v1::Hold> GrpcAccrualClient::VoidHold(const v1::VoidHoldRequest& request) {
  return Invoke<v1::Hold>(deadline_,
                          [&](auto* c, auto* r) { return stub_->VoidHold(c, request, r); });
}

StatusOr<v1::LedgerEntry> GrpcAccrualClient::AwardPoints(const v1::AwardPointsRequest& request) {
  return Invoke<v1::LedgerEntry>(
      deadline_, [&](auto* c, auto* r) { return stub_->AwardPoints(c, request, r); });
}

StatusOr<v1::LedgerEntry> GrpcAccrualClient::AdjustPoints(const v1::AdjustPointsRequest& request) {
  return Invoke<v1::LedgerEntry>(
      deadline_, [&](auto* c, auto* r) { return stub_->AdjustPoints(c, request, r); });
}

StatusOr<v1::GetBalanceResponse> GrpcAccrualClient::GetBalance(const std::string& member_id) {
  v1::GetBalanceRequest request;
  request.set_member_id(member_id);
  return Invoke<v1::GetBalanceResponse>(
      deadline_, [&](auto* c, auto* r) { return stub_->GetBalance(c, request, r); });
}

StatusOr<v1::Member> GrpcAccrualClient::GetMember(const std::string& member_id) {
  v1::GetMemberRequest request;
  request.set_member_id(member_id);
  return Invoke<v1::Member>(deadline_,
                            [&](auto* c, auto* r) { return stub_->GetMember(c, request, r); });
}

StatusOr<v1::ListLedgerResponse> GrpcAccrualClient::ListLedger(
    const v1::ListLedgerRequest& request) {
  return Invoke<v1::ListLedgerResponse>(
      deadline_, [&](auto* c, auto* r) { return stub_->ListLedger(c, request, r); });
}

}  // namespace loyalty
