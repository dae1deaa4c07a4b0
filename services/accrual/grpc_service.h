// gRPC adapter of accrual: translates requests to core calls and Status to gRPC codes.
#pragma once

#include <optional>
#include <string_view>

#include "common/forwarder.h"
#include "loyalty/v1/accrual.grpc.pb.h"
#include "services/accrual/core/accrual_core.h"

namespace loyalty::accrual {

// Holds and captures, the calls other services make on their hot paths, are callback
// handlers: a call waiting for its write holds no thread (docs/decisions.md).
using AccrualServiceBase = v1::AccrualService::WithCallbackMethod_HoldPoints<
    v1::AccrualService::WithCallbackMethod_CaptureHold<v1::AccrualService::Service>>;

class AccrualGrpcService final : public AccrualServiceBase {
 public:
  // forwarder: with several instances, calls for members another instance owns go there
  // (common/forwarder.h); nullptr serves every call here.
  explicit AccrualGrpcService(AccrualCore& core, Forwarder<v1::AccrualService>* forwarder = nullptr)
      : core_(core), forwarder_(forwarder) {}

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
  using Stub = v1::AccrualService::Stub;
  // The owner's answer when another instance owns key; nullopt: serve the call here.
  template <typename Request, typename Response, typename Call>
  std::optional<grpc::Status> AtOwner(const grpc::ServerContext& context, std::string_view method,
                                      std::string_view key, Call call, const Request& request,
                                      Response* response);
  grpc::Status EnrollAtOwners(const grpc::ServerContext& context,
                              const v1::EnrollMembersRequest& request,
                              v1::EnrollMembersResponse* response);

  AccrualCore& core_;
  Forwarder<v1::AccrualService>* forwarder_;
};

}  // namespace loyalty::accrual
