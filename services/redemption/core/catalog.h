// The rewards catalog: the whole catalog in memory (loaded at start), creation and updates
// with their checks, who may redeem what (window, audience, stock, per-member limits), the
// stock each redemption takes and gives back, and the offers a member sees.
#pragma once

#include <map>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/redemption.pb.h"
#include "services/redemption/core/member_states.h"
#include "services/redemption/core/txn.h"

namespace loyalty::redemption {

// Checks a reward as given to Create/Update; the field names are the request's.
Status ValidateReward(const v1::Reward& reward, const std::string& currency);

// The kind as events and metrics name it ("discount", "gift_card", ...).
std::string KindName(v1::RewardKind kind);

class Catalog {
 public:
  Catalog(const Store& store, const Clock& clock, MemberStates& members, std::string currency);

  StatusOr<v1::Reward> Create(Txn& txn, const v1::CreateRewardRequest& request);
  StatusOr<v1::Reward> Update(Txn& txn, const v1::UpdateRewardRequest& request);
  v1::Reward* Find(const std::string& reward_id);
  StatusOr<v1::Reward> Get(const std::string& reward_id) const;
  // Everything but the points: active, window, audience (member: accrual's view, read only
  // for tier and segment audiences), stock and the member's limit.
  Status CheckRedeemable(const v1::Reward& reward, const std::string& member_id,
                         const v1::Member& member, int64_t quantity);
  // Whether redeeming needs accrual's view of the member (a tier or segment audience).
  bool NeedsMember(const std::string& reward_id) const;
  // Stock taken by a reservation or a draw, and given back.
  void TakeStock(Txn& txn, v1::Reward& reward, int64_t quantity);
  void ReleaseStock(Txn& txn, const std::string& reward_id, int64_t quantity);
  // The offers of ListRewards: every reward (member empty), or what member may redeem with
  // whether it is affordable, in the requested order.
  v1::ListRewardsResponse Offers(const v1::ListRewardsRequest& request, const v1::Member* member);
  void WriteDirty(const Txn& txn, StagedWrite& write) const;

 private:
  v1::RewardOffer OfferFor(const v1::Reward& reward, const std::string& member_id,
                           const v1::Member& member);

  const Clock& clock_;
  MemberStates& members_;
  const std::string currency_;
  std::map<std::string, v1::Reward> rewards_;
};

}  // namespace loyalty::redemption
