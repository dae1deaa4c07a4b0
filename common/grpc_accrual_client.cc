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

}  // namespace

GrpcAccrualClient::GrpcAccrualClient(const std::vector<std::string>& addresses, int32_t partitions,
                                     std::shared_ptr<grpc::ChannelCredentials> credentials,
                                     std::chrono::milliseconds deadline)
    : router_(addresses, partitions, credentials), deadline_(deadline) {}

GrpcAccrualClient::GrpcAccrualClient(const std::string& address,
                                     std::shared_ptr<grpc::ChannelCredentials> credentials,
                                     std::chrono::milliseconds deadline)
    : GrpcAccrualClient(std::vector<std::string>{address}, 0, std::move(credentials), deadline) {}

StatusOr<v1::Hold> GrpcAccrualClient::HoldPoints(const v1::HoldPointsRequest& request) {
  return Invoke<v1::Hold>(deadline_, [&](auto* c, auto* r) {
    return router_.For(request.member_id()).HoldPoints(c, request, r);
  });
}

StatusOr<v1::Hold> GrpcAccrualClient::CaptureHold(const v1::CaptureHoldRequest& request) {
  return Invoke<v1::Hold>(deadline_, [&](auto* c, auto* r) {
    return router_.For(request.hold_id()).CaptureHold(c, request, r);
  });
}

void GrpcAccrualClient::HoldPointsAsync(const v1::HoldPointsRequest& request, HoldCallback done) {
  InvokeAsync<v1::Hold>(
      deadline_, request, std::move(done), [&](auto* c, auto* q, auto* r, auto callback) {
        router_.For(request.member_id()).async()->HoldPoints(c, q, r, std::move(callback));
      });
}

void GrpcAccrualClient::CaptureHoldAsync(const v1::CaptureHoldRequest& request, HoldCallback done) {
  InvokeAsync<v1::Hold>(
      deadline_, request, std::move(done), [&](auto* c, auto* q, auto* r, auto callback) {
        router_.For(request.hold_id()).async()->CaptureHold(c, q, r, std::move(callback));
      });
}

StatusOr<v1::Hold> GrpcAccrualClient::VoidHold(const v1::VoidHoldRequest& request) {
  return Invoke<v1::Hold>(deadline_, [&](auto* c, auto* r) {
    return router_.For(request.hold_id()).VoidHold(c, request, r);
  });
}

StatusOr<v1::LedgerEntry> GrpcAccrualClient::AwardPoints(const v1::AwardPointsRequest& request) {
  return Invoke<v1::LedgerEntry>(deadline_, [&](auto* c, auto* r) {
    return router_.For(request.member_id()).AwardPoints(c, request, r);
  });
}

StatusOr<v1::LedgerEntry> GrpcAccrualClient::AdjustPoints(const v1::AdjustPointsRequest& request) {
  return Invoke<v1::LedgerEntry>(deadline_, [&](auto* c, auto* r) {
    return router_.For(request.member_id()).AdjustPoints(c, request, r);
  });
}

StatusOr<v1::GetBalanceResponse> GrpcAccrualClient::GetBalance(const std::string& member_id) {
  v1::GetBalanceRequest request;
  request.set_member_id(member_id);
  return Invoke<v1::GetBalanceResponse>(deadline_, [&](auto* c, auto* r) {
    return router_.For(member_id).GetBalance(c, request, r);
  });
}

StatusOr<v1::Member> GrpcAccrualClient::GetMember(const std::string& member_id) {
  v1::GetMemberRequest request;
  request.set_member_id(member_id);
  return Invoke<v1::Member>(
      deadline_, [&](auto* c, auto* r) { return router_.For(member_id).GetMember(c, request, r); });
}

StatusOr<v1::ListLedgerResponse> GrpcAccrualClient::ListLedger(
    const v1::ListLedgerRequest& request) {
  return Invoke<v1::ListLedgerResponse>(deadline_, [&](auto* c, auto* r) {
    return router_.For(request.member_id()).ListLedger(c, request, r);
  });
}

StatusOr<std::unique_ptr<GrpcAccrualClient>> ConnectAccrual(
    const std::string& addresses, const KafkaClientSettings& kafka,
    std::shared_ptr<grpc::ChannelCredentials> credentials, std::chrono::milliseconds deadline) {
  std::vector<std::string> instances = SplitAddresses(addresses);
  if (instances.empty()) return InvalidArgument("accrual.address: no address given");
  int32_t partitions = 0;
  if (instances.size() > 1) {
    auto producer = KafkaProducer::Create(kafka);
    if (!producer.ok()) return producer.status();
    auto count = (*producer)->PartitionCount("loyalty.purchases.v1");
    if (!count.ok()) return count.status();
    partitions = *count;
  }
  return std::make_unique<GrpcAccrualClient>(instances, partitions, std::move(credentials),
                                             deadline);
}

}  // namespace loyalty
