#include "services/accrual/grpc_service.h"

#include <map>
#include <vector>

#include "common/auth/authorizer.h"
#include "common/check.h"
#include "common/field_limits.h"
#include "common/grpc_status.h"

namespace loyalty::accrual {

template <typename Request, typename Response, typename Call>
std::optional<grpc::Status> AccrualGrpcService::AtOwner(const grpc::ServerContext& context,
                                                        std::string_view method,
                                                        std::string_view key, Call call,
                                                        const Request& request,
                                                        Response* response) {
  if (forwarder_ == nullptr) return std::nullopt;
  return forwarder_->Forward(context, method, key, call, request, response);
}

// The members this instance owns are enrolled here, each other owner's in one forwarded
// EnrollMembers; the results go back in the request's order.
grpc::Status AccrualGrpcService::EnrollAtOwners(const grpc::ServerContext& context,
                                                const v1::EnrollMembersRequest& request,
                                                v1::EnrollMembersResponse* response) {
  const Placement& placement = forwarder_->placement();
  std::map<int32_t, v1::EnrollMembersRequest> by_owner;
  std::map<int32_t, std::vector<int>> positions;
  for (int i = 0; i < request.members_size(); ++i) {
    const v1::EnrollMemberRequest& member = request.members(i);
    const int32_t owner = member.member_id().empty() ? placement.ownership.index
                                                     : placement.OwnerOfKey(member.member_id());
    *by_owner[owner].add_members() = member;
    positions[owner].push_back(i);
  }
  response->mutable_results()->Clear();
  for (int i = 0; i < request.members_size(); ++i) response->add_results();
  for (auto& [owner, part] : by_owner) {
    v1::EnrollMembersResponse answer;
    if (owner == placement.ownership.index) {
      auto local = core_.EnrollMembers(auth::PrincipalOf(context), part);
      if (!local.ok()) return ToGrpc(local.status());
      answer = std::move(*local);
    } else {
      // Keyed by the first member: it routes to this owner.
      auto forwarded =
          forwarder_->Forward(context, "/loyalty.v1.AccrualService/EnrollMembers",
                              part.members(0).member_id(), &Stub::EnrollMembers, part, &answer);
      if (forwarded && !forwarded->ok()) return *forwarded;
    }
    LOYALTY_CHECK(answer.results_size() == part.members_size(), "one result per enrolment");
    for (int j = 0; j < answer.results_size(); ++j) {
      *response->mutable_results(positions[owner][j]) = std::move(*answer.mutable_results(j));
    }
  }
  return grpc::Status::OK;
}

grpc::Status AccrualGrpcService::EnrollMember(grpc::ServerContext* context,
                                              const v1::EnrollMemberRequest* request,
                                              v1::Member* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  // A generated id is drawn among the partitions this instance owns (AccrualCore).
  if (!request->member_id().empty()) {
    if (auto owner = AtOwner(*context, "/loyalty.v1.AccrualService/EnrollMember",
                             request->member_id(), &Stub::EnrollMember, *request, response)) {
      return *owner;
    }
  }
  return Reply(core_.EnrollMember(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::EnrollMembers(grpc::ServerContext* context,
                                               const v1::EnrollMembersRequest* request,
                                               v1::EnrollMembersResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  if (forwarder_ == nullptr || forwarder_->placement().ownership.instances == 1) {
    return Reply(core_.EnrollMembers(auth::PrincipalOf(*context), *request), response);
  }
  return EnrollAtOwners(*context, *request, response);
}

grpc::Status AccrualGrpcService::GetMember(grpc::ServerContext* context,
                                           const v1::GetMemberRequest* request,
                                           v1::Member* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  if (auto owner = AtOwner(*context, "/loyalty.v1.AccrualService/GetMember", request->member_id(),
                           &Stub::GetMember, *request, response)) {
    return *owner;
  }
  return Reply(core_.GetMember(request->member_id()), response);
}

grpc::Status AccrualGrpcService::GetBalance(grpc::ServerContext* context,
                                            const v1::GetBalanceRequest* request,
                                            v1::GetBalanceResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  if (auto owner = AtOwner(*context, "/loyalty.v1.AccrualService/GetBalance", request->member_id(),
                           &Stub::GetBalance, *request, response)) {
    return *owner;
  }
  return Reply(core_.GetBalance(request->member_id()), response);
}

grpc::Status AccrualGrpcService::ListLedger(grpc::ServerContext* context,
                                            const v1::ListLedgerRequest* request,
                                            v1::ListLedgerResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  if (auto owner = AtOwner(*context, "/loyalty.v1.AccrualService/ListLedger", request->member_id(),
                           &Stub::ListLedger, *request, response)) {
    return *owner;
  }
  return Reply(core_.ListLedger(*request), response);
}

grpc::Status AccrualGrpcService::AwardPoints(grpc::ServerContext* context,
                                             const v1::AwardPointsRequest* request,
                                             v1::LedgerEntry* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  if (auto owner = AtOwner(*context, "/loyalty.v1.AccrualService/AwardPoints", request->member_id(),
                           &Stub::AwardPoints, *request, response)) {
    return *owner;
  }
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
  if (auto owner = AtOwner(*context, "/loyalty.v1.AccrualService/AdjustPoints",
                           request->member_id(), &Stub::AdjustPoints, *request, response)) {
    return *owner;
  }
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
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto start = [](auto* async, auto* client, auto* q, auto* r, auto done) {
    async->HoldPoints(client, q, r, std::move(done));
  };
  if (forwarder_ == nullptr ||
      !forwarder_->ForwardAsync(*context, "/loyalty.v1.AccrualService/HoldPoints",
                                request->member_id(), start, request, response,
                                [reactor](grpc::Status s) { reactor->Finish(s); })) {
    core_.HoldPointsAsync(auth::PrincipalOf(*context), *request, FinishWith(reactor, response));
  }
  return reactor;
}

grpc::ServerUnaryReactor* AccrualGrpcService::CaptureHold(grpc::CallbackServerContext* context,
                                                          const v1::CaptureHoldRequest* request,
                                                          v1::Hold* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) {
    return Answer(context, response, [&](auto done) { done(s); });
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto start = [](auto* async, auto* client, auto* q, auto* r, auto done) {
    async->CaptureHold(client, q, r, std::move(done));
  };
  if (forwarder_ == nullptr ||
      !forwarder_->ForwardAsync(*context, "/loyalty.v1.AccrualService/CaptureHold",
                                request->hold_id(), start, request, response,
                                [reactor](grpc::Status s) { reactor->Finish(s); })) {
    core_.CaptureHoldAsync(auth::PrincipalOf(*context), *request, FinishWith(reactor, response));
  }
  return reactor;
}

grpc::Status AccrualGrpcService::VoidHold(grpc::ServerContext* context,
                                          const v1::VoidHoldRequest* request, v1::Hold* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  if (auto owner = AtOwner(*context, "/loyalty.v1.AccrualService/VoidHold", request->hold_id(),
                           &Stub::VoidHold, *request, response)) {
    return *owner;
  }
  return Reply(core_.VoidHold(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::EraseMember(grpc::ServerContext* context,
                                             const v1::EraseMemberRequest* request,
                                             v1::EraseMemberResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  if (auto owner = AtOwner(*context, "/loyalty.v1.AccrualService/EraseMember", request->member_id(),
                           &Stub::EraseMember, *request, response)) {
    return *owner;
  }
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
  if (auto owner = AtOwner(*context, "/loyalty.v1.AccrualService/SetMemberSegments",
                           request->member_id(), &Stub::SetMemberSegments, *request, response)) {
    return *owner;
  }
  return Reply(core_.SetMemberSegments(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::PurchaseMembership(grpc::ServerContext* context,
                                                    const v1::PurchaseMembershipRequest* request,
                                                    v1::Member* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  if (auto owner = AtOwner(*context, "/loyalty.v1.AccrualService/PurchaseMembership",
                           request->member_id(), &Stub::PurchaseMembership, *request, response)) {
    return *owner;
  }
  return Reply(core_.PurchaseMembership(auth::PrincipalOf(*context), *request), response);
}

grpc::Status AccrualGrpcService::SimulatePurchase(grpc::ServerContext* context,
                                                  const v1::PurchaseEvent* request,
                                                  v1::SimulatePurchaseResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  if (auto owner = AtOwner(*context, "/loyalty.v1.AccrualService/SimulatePurchase",
                           request->member_id(), &Stub::SimulatePurchase, *request, response)) {
    return *owner;
  }
  return Reply(core_.SimulatePurchase(*request), response);
}

grpc::Status AccrualGrpcService::ListPartnerStats(grpc::ServerContext*,
                                                  const v1::ListPartnerStatsRequest*,
                                                  v1::ListPartnerStatsResponse* response) {
  *response = core_.ListPartnerStats();
  return grpc::Status::OK;
}

}  // namespace loyalty::accrual
