// gRPC adapter of accrual: translates requests to core calls and Status to gRPC codes.
#pragma once

#include "loyalty/v1/accrual.grpc.pb.h"
#include "services/accrual/core/accrual_core.h"

namespace loyalty::accrual {

// Holds and captures, the calls other services make on their hot paths, are callback
// handlers: a call waiting for its write holds no thread (docs/decisions.md).
using AccrualServiceBase = v1::AccrualService::WithCallbackMethod_HoldPoints<
    v1::AccrualService::WithCallbackMethod_CaptureHold<v1::AccrualService::Service>>;

class AccrualGrpcService final : public AccrualServiceBase {
 public:
  explicit AccrualGrpcService(AccrualCore& core) : core_(core) {}

  grpc::Status EnrollMember(grpc::ServerContext*, const v1::EnrollMemberRequest*,
                            v1::Member*) override;
  grpc::Status EnrollMembers(grpc::ServerContext*, const v1::EnrollMembersRequest*,
                             v1::EnrollMembersResponse*) override;
  grpc::Status GetMember(grpc::ServerContext*, const v1::GetMemberRequest*, v1::Member*) override;
  grpc::Status GetBalance(grpc::ServerContext*, const v1::GetBalanceRequest*,
                          v1::GetBalanceResponse*) override;
  grpc::Status ListLedger(grpc::ServerContext*, const v1::ListLedgerRequest*,
                          v1::ListLedgerResponse*) override;
  grpc::Status AwardPoints(grpc::ServerContext*, const v1::AwardPointsRequest*,
                           v1::LedgerEntry*) override;
  grpc::Status AdjustPoints(grpc::ServerContext*, const v1::AdjustPointsRequest*,
                            v1::LedgerEntry*) override;
  grpc::ServerUnaryReactor* HoldPoints(grpc::CallbackServerContext*, const v1::HoldPointsRequest*,
                                       v1::Hold*) override;
  grpc::ServerUnaryReactor* CaptureHold(grpc::CallbackServerContext*, const v1::CaptureHoldRequest*,
                                        v1::Hold*) override;
  grpc::Status VoidHold(grpc::ServerContext*, const v1::VoidHoldRequest*, v1::Hold*) override;
  grpc::Status EraseMember(grpc::ServerContext*, const v1::EraseMemberRequest*,
                           v1::EraseMemberResponse*) override;
  grpc::Status CreateCampaign(grpc::ServerContext*, const v1::CreateCampaignRequest*,
                              v1::Campaign*) override;
  grpc::Status UpdateCampaign(grpc::ServerContext*, const v1::UpdateCampaignRequest*,
                              v1::Campaign*) override;
  grpc::Status GetCampaign(grpc::ServerContext*, const v1::GetCampaignRequest*,
                           v1::Campaign*) override;
  grpc::Status ListCampaigns(grpc::ServerContext*, const v1::ListCampaignsRequest*,
                             v1::ListCampaignsResponse*) override;
  grpc::Status EndCampaign(grpc::ServerContext*, const v1::EndCampaignRequest*,
                           v1::Campaign*) override;
  grpc::Status ListCampaignAudit(grpc::ServerContext*, const v1::ListCampaignAuditRequest*,
                                 v1::ListCampaignAuditResponse*) override;
  grpc::Status SetMemberSegments(grpc::ServerContext*, const v1::SetMemberSegmentsRequest*,
                                 v1::Member*) override;
  grpc::Status PurchaseMembership(grpc::ServerContext*, const v1::PurchaseMembershipRequest*,
                                  v1::Member*) override;
  grpc::Status SimulatePurchase(grpc::ServerContext*, const v1::PurchaseEvent*,
                                v1::SimulatePurchaseResponse*) override;
  grpc::Status ListPartnerStats(grpc::ServerContext*, const v1::ListPartnerStatsRequest*,
                                v1::ListPartnerStatsResponse*) override;

 private:
  AccrualCore& core_;
};

}  // namespace loyalty::accrual
