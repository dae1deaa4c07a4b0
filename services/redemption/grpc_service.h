// gRPC adapter of redemption: translates requests to core calls and Status to gRPC codes.
#pragma once

#include "loyalty/v1/redemption.grpc.pb.h"
#include "services/redemption/core/redemption_core.h"

namespace loyalty::redemption {

// Redeem, the hot path, is a callback handler: a redemption waiting for its writes and for
// accrual holds no thread (docs/decisions.md).
class RedemptionGrpcService final
    : public v1::RedemptionService::WithCallbackMethod_Redeem<v1::RedemptionService::Service> {
 public:
  explicit RedemptionGrpcService(RedemptionCore& core) : core_(core) {}

  grpc::ServerUnaryReactor* Redeem(grpc::CallbackServerContext* context,
                                   const v1::RedeemRequest* request,
                                   v1::Redemption* response) override;

#define LOYALTY_RPC(Method, Request, Response) \
  grpc::Status Method(grpc::ServerContext*, const v1::Request*, v1::Response*) override;
  LOYALTY_RPC(CreateReward, CreateRewardRequest, Reward)
  LOYALTY_RPC(UpdateReward, UpdateRewardRequest, Reward)
  LOYALTY_RPC(GetReward, GetRewardRequest, Reward)
  LOYALTY_RPC(ListRewards, ListRewardsRequest, ListRewardsResponse)
  LOYALTY_RPC(GetRedemption, GetRedemptionRequest, Redemption)
  LOYALTY_RPC(ListRedemptions, ListRedemptionsRequest, ListRedemptionsResponse)
  LOYALTY_RPC(CancelRedemption, CancelRedemptionRequest, Redemption)
  LOYALTY_RPC(ValidateVoucher, ValidateVoucherRequest, ValidateVoucherResponse)
  LOYALTY_RPC(UseVoucher, UseVoucherRequest, Voucher)
  LOYALTY_RPC(QuoteCheckout, QuoteCheckoutRequest, CheckoutQuote)
  LOYALTY_RPC(StartCheckout, StartCheckoutRequest, Checkout)
  LOYALTY_RPC(CompleteCheckout, CompleteCheckoutRequest, Checkout)
  LOYALTY_RPC(CancelCheckout, CancelCheckoutRequest, Checkout)
  LOYALTY_RPC(GetCheckout, GetCheckoutRequest, Checkout)
  LOYALTY_RPC(RunPrizeDraw, RunPrizeDrawRequest, PrizeDraw)
  LOYALTY_RPC(GetPrizeDraw, GetPrizeDrawRequest, PrizeDraw)
#undef LOYALTY_RPC

 private:
  RedemptionCore& core_;
};

}  // namespace loyalty::redemption
