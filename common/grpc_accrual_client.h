// The accrual service over gRPC, as AccrualClient (common/accrual_client.h): each call goes
// to the instance that owns its member (common/owner_router.h).
#pragma once

#include <grpcpp/security/credentials.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/accrual_client.h"
#include "common/kafka.h"
#include "common/owner_router.h"
#include "loyalty/v1/accrual.grpc.pb.h"

namespace loyalty {

class GrpcAccrualClient : public AccrualClient {
 public:
  // addresses: accrual's instances in index order; partitions: the member-keyed topics'
  // partition count (needed with two or more instances). credentials: the calling service's
  // (common/grpc_tls.h ChannelCredentials).
  GrpcAccrualClient(const std::vector<std::string>& addresses, int32_t partitions,
                    std::shared_ptr<grpc::ChannelCredentials> credentials,
                    std::chrono::milliseconds deadline = std::chrono::seconds(5));
  // One instance.
  GrpcAccrualClient(const std::string& address,
                    std::shared_ptr<grpc::ChannelCredentials> credentials,
                    std::chrono::milliseconds deadline = std::chrono::seconds(5));

  StatusOr<v1::Hold> HoldPoints(const v1::HoldPointsRequest& request) override;
  StatusOr<v1::Hold> CaptureHold(const v1::CaptureHoldRequest& request) override;
  StatusOr<v1::Hold> VoidHold(const v1::VoidHoldRequest& request) override;
  StatusOr<v1::LedgerEntry> AwardPoints(const v1::AwardPointsRequest& request) override;
  StatusOr<v1::LedgerEntry> AdjustPoints(const v1::AdjustPointsRequest& request) override;
  StatusOr<v1::GetBalanceResponse> GetBalance(const std::string& member_id) override;
  StatusOr<v1::Member> GetMember(const std::string& member_id) override;
  StatusOr<v1::ListLedgerResponse> ListLedger(const v1::ListLedgerRequest& request) override;
  // gRPC's callback API: done runs on a gRPC thread.
  void HoldPointsAsync(const v1::HoldPointsRequest& request, HoldCallback done) override;
  void CaptureHoldAsync(const v1::CaptureHoldRequest& request, HoldCallback done) override;

 private:
  OwnerRouter<v1::AccrualService> router_;
  std::chrono::milliseconds deadline_;
};

// accrual's client from its configured address (accrual.address): one address, or its
// instances comma-separated in index order; then calls are routed by the partitions of
// loyalty.purchases.v1, which are read from Kafka here. INVALID_ARGUMENT for an empty list.
StatusOr<std::unique_ptr<GrpcAccrualClient>> ConnectAccrual(
    const std::string& addresses, const KafkaClientSettings& kafka,
    std::shared_ptr<grpc::ChannelCredentials> credentials,
    std::chrono::milliseconds deadline = std::chrono::seconds(5));

}  // namespace loyalty
