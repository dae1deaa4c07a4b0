// The accrual service over gRPC, as AccrualClient (common/accrual_client.h).
#pragma once

#include <grpcpp/security/credentials.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/accrual_client.h"
#include "loyalty/v1/accrual.grpc.pb.h"

namespace loyalty {

class GrpcAccrualClient : public AccrualClient {
 public:
  // credentials: the calling service's (common/grpc_tls.h ChannelCredentials).
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
  std::unique_ptr<v1::AccrualService::Stub> stub_;
  std::chrono::milliseconds deadline_;
};

}  // namespace loyalty
