// The real RedemptionClient: redemption's gRPC API with a short deadline, because the event
// consumer waits for it (a slow redemption must delay messages little, then lose the
// suggestion, never hold the batch).
#pragma once

#include <grpcpp/security/credentials.h>

#include <chrono>
#include <memory>
#include <string>

#include "loyalty/v1/redemption.grpc.pb.h"
#include "services/notification/core/redemption_client.h"

namespace loyalty::notification {

class GrpcRedemptionClient : public RedemptionClient {
 public:
  GrpcRedemptionClient(const std::string& address,
                       std::shared_ptr<grpc::ChannelCredentials> credentials,
                       std::chrono::milliseconds deadline);
  StatusOr<v1::ListRewardsResponse> ListRewards(const std::string& member_id) override;

 private:
  std::unique_ptr<v1::RedemptionService::Stub> stub_;
  std::chrono::milliseconds deadline_;
};

}  // namespace loyalty::notification
