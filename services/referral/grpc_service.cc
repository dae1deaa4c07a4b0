#include "services/referral/grpc_service.h"

#include "common/auth/authorizer.h"
#include "common/field_limits.h"
#include "common/grpc_status.h"

namespace loyalty::referral {
grpc::Status ReferralGrpcService::GetReferralCode(grpc::ServerContext*,
                                                  const v1::GetReferralCodeRequest* request,
                                                  v1::ReferralCode* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.GetReferralCode(request->member_id()), response);
}

grpc::Status ReferralGrpcService::ApplyReferral(grpc::ServerContext* context,
                                                const v1::ApplyReferralRequest* request,
                                                v1::Referral* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.ApplyReferral(auth::PrincipalOf(*context), *request), response);
}

grpc::Status ReferralGrpcService::GetReferral(grpc::ServerContext*,
                                              const v1::GetReferralRequest* request,
                                              v1::Referral* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.GetReferral(request->referral_id()), response);
}

grpc::Status ReferralGrpcService::GetReferralStats(grpc::ServerContext*,
                                                   const v1::GetReferralStatsRequest* request,
                                                   v1::ReferralStats* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.GetReferralStats(request->member_id()), response);
}

grpc::Status ReferralGrpcService::ListReferrals(grpc::ServerContext*,
                                                const v1::ListReferralsRequest* request,
                                                v1::ListReferralsResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.ListReferrals(*request), response);
}

grpc::Status ReferralGrpcService::SetVanityCode(grpc::ServerContext* context,
                                                const v1::SetVanityCodeRequest* request,
                                                v1::ReferralCode* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.SetVanityCode(auth::PrincipalOf(*context), *request), response);
}

grpc::Status ReferralGrpcService::ListHeldReferrals(grpc::ServerContext*,
                                                    const v1::ListHeldReferralsRequest* request,
                                                    v1::ListReferralsResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.ListHeldReferrals(*request), response);
}

grpc::Status ReferralGrpcService::ApproveReferral(grpc::ServerContext* context,
                                                  const v1::ReviewReferralRequest* request,
                                                  v1::Referral* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.ApproveReferral(auth::PrincipalOf(*context), *request), response);
}

grpc::Status ReferralGrpcService::RejectReferral(grpc::ServerContext* context,
                                                 const v1::ReviewReferralRequest* request,
                                                 v1::Referral* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  return Reply(core_.RejectReferral(auth::PrincipalOf(*context), *request), response);
}

}  // namespace loyalty::referral
