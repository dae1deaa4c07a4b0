// gRPC adapter of referral: translates requests to core calls and Status to gRPC codes.
#pragma once

#include "loyalty/v1/referral.grpc.pb.h"
#include "services/referral/core/referral_core.h"

namespace loyalty::referral {

class ReferralGrpcService final : public v1::ReferralService::Service {
 public:
  explicit ReferralGrpcService(ReferralCore& core) : core_(core) {}

  grpc::Status GetReferralCode(grpc::ServerContext*, const v1::GetReferralCodeRequest*,
                               v1::ReferralCode*) override;
  grpc::Status ApplyReferral(grpc::ServerContext*, const v1::ApplyReferralRequest*,
                             v1::Referral*) override;
  grpc::Status GetReferral(grpc::ServerContext*, const v1::GetReferralRequest*,
                           v1::Referral*) override;
  grpc::Status GetReferralStats(grpc::ServerContext*, const v1::GetReferralStatsRequest*,
                                v1::ReferralStats*) override;
  grpc::Status ListReferrals(grpc::ServerContext*, const v1::ListReferralsRequest*,
                             v1::ListReferralsResponse*) override;
  grpc::Status SetVanityCode(grpc::ServerContext*, const v1::SetVanityCodeRequest*,
                             v1::ReferralCode*) override;
  grpc::Status ListHeldReferrals(grpc::ServerContext*, const v1::ListHeldReferralsRequest*,
                                 v1::ListReferralsResponse*) override;
  grpc::Status ApproveReferral(grpc::ServerContext*, const v1::ReviewReferralRequest*,
                               v1::Referral*) override;
  grpc::Status RejectReferral(grpc::ServerContext*, const v1::ReviewReferralRequest*,
                              v1::Referral*) override;

 private:
  ReferralCore& core_;
};

}  // namespace loyalty::referral
