// The redemption service as the notification service sees it: the one read it needs, the
// rewards a member may redeem now with their affordability. An interface so that the core and
// the bot are tested against a fake; GrpcRedemptionClient (adapter layer) is the real one.
#pragma once

#include <string>

#include "common/status.h"
#include "loyalty/v1/redemption.pb.h"

namespace loyalty::notification {

class RedemptionClient {
 public:
  virtual ~RedemptionClient() = default;
  // ListRewards(member_id): only what the member may redeem now, cheapest first. Must return
  // within the implementation's deadline: callers wait for it while events are consumed.
  virtual StatusOr<v1::ListRewardsResponse> ListRewards(const std::string& member_id) = 0;
};

}  // namespace loyalty::notification
