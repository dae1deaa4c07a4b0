#include "services/notification/grpc_redemption_client.h"

#include <grpcpp/grpcpp.h>

#include "common/grpc_status.h"

namespace loyalty::notification {

GrpcRedemptionClient::GrpcRedemptionClient(const std::string& address,
                                           std::shared_ptr<grpc::ChannelCredentials> credentials,
                                           std::chrono::milliseconds deadline)
    : stub_(v1::RedemptionService::NewStub(grpc::CreateChannel(address, std::move(credentials)))),
      deadline_(deadline) {}

StatusOr<v1::ListRewardsResponse> GrpcRedemptionClient::ListRewards(const std::string& member_id) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline_);
  v1::ListRewardsRequest request;
  request.set_member_id(member_id);
  request.set_order(v1::REWARD_ORDER_CHEAPEST_FIRST);
  v1::ListRewardsResponse response;
  grpc::Status status = stub_->ListRewards(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response;
}

}  // namespace loyalty::notification
