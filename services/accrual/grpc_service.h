// gRPC adapter of accrual: translates requests to core calls and Status to gRPC codes.
#pragma once

#include "loyalty/v1/accrual.grpc.pb.h"
#include "services/accrual/core/accrual_core.h"

namespace loyalty::accrual {

class AccrualGrpcService final : public v1::AccrualService::Service {
 public:
  explicit AccrualGrpcService(AccrualCore& core) : core_(core) {}

  grpc::Status EnrollMember(grpc::ServerContext*, const v1::EnrollMemberRequest*,
                            v1::Member*) override;
  grpc::Status GetMember(grpc::ServerContext*, const v1::GetMemberRequest*, v1::Member*) override;
  grpc::Status GetBalance(grpc::ServerContext*, const v1::GetBalanceRequest*,
                          v1::GetBalanceResponse*) override;
  grpc::Status ListLedger(grpc::ServerContext*, const v1::ListLedgerRequest*,
                          v1::ListLedgerResponse*) override;
  grpc::Status AwardPoints(grpc::ServerContext*, const v1::AwardPointsRequest*,
                           v1::LedgerEntry*) override;
  grpc::Status AdjustPoints(grpc::ServerContext*, const v1::AdjustPointsRequest*,
                            v1::LedgerEntry*) override;
  grpc::Status HoldPoints(grpc::ServerContext*, const v1::HoldPointsRequest*, v1::Hold*) override;
  grpc::Status CaptureHold(grpc::ServerContext*, const v1::CaptureHoldRequest*, v1::Hold*) override;
  grpc::Status VoidHold(grpc::ServerContext*, const v1::VoidHoldRequest*, v1::Hold*) override;
  grpc::Status EraseMember(grpc::ServerContext*, const v1::EraseMemberRequest*,
                           v1::EraseMemberResponse*) override;

 private:
  AccrualCore& core_;
};

}  // namespace loyalty::accrual
