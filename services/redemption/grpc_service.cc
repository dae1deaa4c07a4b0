#include "services/redemption/grpc_service.h"

#include "common/auth/authorizer.h"
#include "common/field_limits.h"
#include "common/grpc_status.h"

namespace loyalty::redemption {
#define LOYALTY_RPC(Method, Request, Response, call)                                               \
  grpc::Status RedemptionGrpcService::Method(grpc::ServerContext* context,                         \
                                             const v1::Request* request, v1::Response* response) { \
    if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);                          \
    return Reply(core_.call, response);                                                            \
  }

LOYALTY_RPC(CreateReward, CreateRewardRequest, Reward,
            CreateReward(auth::PrincipalOf(*context), *request))
LOYALTY_RPC(UpdateReward, UpdateRewardRequest, Reward,
            UpdateReward(auth::PrincipalOf(*context), *request))
LOYALTY_RPC(GetReward, GetRewardRequest, Reward, GetReward(request->reward_id()))
LOYALTY_RPC(ListRewards, ListRewardsRequest, ListRewardsResponse, ListRewards(*request))
LOYALTY_RPC(GetRedemption, GetRedemptionRequest, Redemption,
            GetRedemption(request->redemption_id()))
LOYALTY_RPC(ListRedemptions, ListRedemptionsRequest, ListRedemptionsResponse,
            ListRedemptions(request->member_id()))
LOYALTY_RPC(CancelRedemption, CancelRedemptionRequest, Redemption,
            CancelRedemption(auth::PrincipalOf(*context), *request))
LOYALTY_RPC(ValidateVoucher, ValidateVoucherRequest, ValidateVoucherResponse,
            ValidateVoucher(*request))
LOYALTY_RPC(UseVoucher, UseVoucherRequest, Voucher,
            UseVoucher(auth::PrincipalOf(*context), *request))
LOYALTY_RPC(QuoteCheckout, QuoteCheckoutRequest, CheckoutQuote, QuoteCheckout(*request))
LOYALTY_RPC(StartCheckout, StartCheckoutRequest, Checkout,
            StartCheckout(auth::PrincipalOf(*context), *request))
LOYALTY_RPC(CompleteCheckout, CompleteCheckoutRequest, Checkout,
            CompleteCheckout(auth::PrincipalOf(*context), *request))
LOYALTY_RPC(CancelCheckout, CancelCheckoutRequest, Checkout,
            CancelCheckout(auth::PrincipalOf(*context), *request))
LOYALTY_RPC(GetCheckout, GetCheckoutRequest, Checkout, GetCheckout(request->checkout_id()))
LOYALTY_RPC(RunPrizeDraw, RunPrizeDrawRequest, PrizeDraw,
            RunPrizeDraw(auth::PrincipalOf(*context), *request))
LOYALTY_RPC(GetPrizeDraw, GetPrizeDrawRequest, PrizeDraw, GetPrizeDraw(request->draw_id()))
#undef LOYALTY_RPC

grpc::ServerUnaryReactor* RedemptionGrpcService::Redeem(grpc::CallbackServerContext* context,
                                                        const v1::RedeemRequest* request,
                                                        v1::Redemption* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) {
    return Answer(context, response, [&](auto done) { done(s); });
  }
  return Answer(context, response, [&](auto done) {
    core_.RedeemAsync(auth::PrincipalOf(*context), *request, std::move(done));
  });
}

}  // namespace loyalty::redemption
