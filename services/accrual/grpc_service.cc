#include "services/accrual/grpc_service.h"

#include "common/auth/authorizer.h"
#include "common/field_limits.h"
#include "common/grpc_status.h"

namespace loyalty::accrual {
grpc::Status AccrualGrpcService::EnrollMember(grpc::ServerContext* context,
                                              const v1::EnrollMemberRequest* request,
                                              v1::Member* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.EnrollMember(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::EnrollMembers(grpc::ServerContext* context,
                                               const v1::EnrollMembersRequest* request,
                                               v1::EnrollMembersResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.EnrollMembers(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::GetMember(grpc::ServerContext*,
                                           const v1::GetMemberRequest* request,
                                           v1::Member* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.GetMember(request->member_id()), response);
}

grpc::Status AccrualGrpcService::GetBalance(grpc::ServerContext*,
                                            const v1::GetBalanceRequest* request,
                                            v1::GetBalanceResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.GetBalance(request->member_id()), response);
}

grpc::Status AccrualGrpcService::ListLedger(grpc::ServerContext*,
                                            const v1::ListLedgerRequest* request,
                                            v1::ListLedgerResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.ListLedger(*request), response);
}

grpc::Status AccrualGrpcService::AwardPoints(grpc::ServerContext* context,
                                             const v1::AwardPointsRequest* request,
                                             v1::LedgerEntry* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  // A service awards only with the sources it owns (common/auth/policy.h).
  auth::Caller caller = auth::CallerOf(*context, "/loyalty.v1.AccrualService/AwardPoints");
  if (Status s = caller.limits.CheckAward(request->source(), caller.principal); !s.ok()) {
    return ToGrpc(s);
  }
  return Reply(core_.AwardPoints(Principal(caller.principal), *request), response);
}

grpc::Status AccrualGrpcService::AdjustPoints(grpc::ServerContext* context,
                                              const v1::AdjustPointsRequest* request,
                                              v1::LedgerEntry* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  // Support adjusts within its limit; referral only reverses (common/auth/policy.h).
  auth::Caller caller = auth::CallerOf(*context, "/loyalty.v1.AccrualService/AdjustPoints");
  if (Status s = caller.limits.CheckAdjust(request->delta(), caller.principal); !s.ok()) {
    return ToGrpc(s);
  }
  return Reply(core_.AdjustPoints(Principal(caller.principal), *request), response);
}

grpc::ServerUnaryReactor* AccrualGrpcService::HoldPoints(grpc::CallbackServerContext* context,
                                                         const v1::HoldPointsRequest* request,
                                                         v1::Hold* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) {
    return Answer(context, response, [&](auto done) { done(s); });
  }
  return Answer(context, response, [&](auto done) {
    core_.HoldPointsAsync(auth::PrincipalOf(*context), *request, std::move(done));
  });
}

grpc::ServerUnaryReactor* AccrualGrpcService::CaptureHold(grpc::CallbackServerContext* context,
                                                          const v1::CaptureHoldRequest* request,
                                                          v1::Hold* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) {
    return Answer(context, response, [&](auto done) { done(s); });
  }
  return Answer(context, response, [&](auto done) {
    core_.CaptureHoldAsync(auth::PrincipalOf(*context), *request, std::move(done));
  });
}

grpc::Status AccrualGrpcService::VoidHold(grpc::ServerContext* context,
                                          const v1::VoidHoldRequest* request, v1::Hold* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.VoidHold(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::EraseMember(grpc::ServerContext* context,
                                             const v1::EraseMemberRequest* request,
                                             v1::EraseMemberResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.EraseMember(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::CreateCampaign(grpc::ServerContext* context,
                                                const v1::CreateCampaignRequest* request,
                                                v1::Campaign* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.CreateCampaign(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::UpdateCampaign(grpc::ServerContext* context,
                                                const v1::UpdateCampaignRequest* request,
                                                v1::Campaign* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.UpdateCampaign(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::GetCampaign(grpc::ServerContext*,
                                             const v1::GetCampaignRequest* request,
                                             v1::Campaign* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.GetCampaign(request->campaign_id()), response);
}

grpc::Status AccrualGrpcService::ListCampaigns(grpc::ServerContext*,
                                               const v1::ListCampaignsRequest* request,
                                               v1::ListCampaignsResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  *response = core_.ListCampaigns(request->include_ended());
  return grpc::Status::OK;
}

grpc::Status AccrualGrpcService::EndCampaign(grpc::ServerContext* context,
                                             const v1::EndCampaignRequest* request,
                                             v1::Campaign* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.EndCampaign(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::ListCampaignAudit(grpc::ServerContext*,
                                                   const v1::ListCampaignAuditRequest* request,
                                                   v1::ListCampaignAuditResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.ListCampaignAudit(request->campaign_id()), response);
}

grpc::Status AccrualGrpcService::SetMemberSegments(grpc::ServerContext* context,
                                                   const v1::SetMemberSegmentsRequest* request,
                                                   v1::Member* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.SetMemberSegments(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::PurchaseMembership(grpc::ServerContext* context,
                                                    const v1::PurchaseMembershipRequest* request,
                                                    v1::Member* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.PurchaseMembership(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::SimulatePurchase(grpc::ServerContext*,
                                                  const v1::PurchaseEvent* request,
                                                  v1::SimulatePurchaseResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.SimulatePurchase(*request), response);
}

grpc::Status AccrualGrpcService::ListPartnerStats(grpc::ServerContext*,
                                                  const v1::ListPartnerStatsRequest*,
                                                  v1::ListPartnerStatsResponse* response) {
  *response = core_.ListPartnerStats();
  return grpc::Status::OK;
}

}  // namespace loyalty::accrual
