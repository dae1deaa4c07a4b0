#include "services/redemption/core/catalog.h"

#include <algorithm>
#include <vector>

#include "common/field_limits.h"
#include "common/ids.h"
#include "services/redemption/core/types.h"

namespace loyalty::redemption {

using v1::Reward;

namespace {

// The part of a reward that depends on its kind (discount, gift card, ...).
Status ValidateKind(const v1::Reward& r) {
  switch (r.kind()) {
    case v1::REWARD_KIND_DISCOUNT: {
      if (!r.has_discount()) return InvalidArgument("reward.discount: required for a discount");
      const auto& d = r.discount();
      if ((d.amount_minor() > 0) == (d.percent_bp() > 0)) {
        return InvalidArgument(
            "reward.discount.amount_minor: give either a fixed amount or percent_bp");
      }
      if (d.amount_minor() < 0 || d.amount_minor() > kMaxAmountMinor) {
        return InvalidArgument("reward.discount.amount_minor: out of range");
      }
      if (d.percent_bp() < 0 || d.percent_bp() > 10000) {
        return InvalidArgument("reward.discount.percent_bp: must be in 1..10000");
      }
      if (d.min_basket_minor() < 0 || d.min_basket_minor() > kMaxAmountMinor) {
        return InvalidArgument("reward.discount.min_basket_minor: out of range");
      }
      break;
    }
    case v1::REWARD_KIND_GIFT_CARD:
      if (!r.has_gift_card()) return InvalidArgument("reward.gift_card: required for a gift card");
      if (r.gift_card().value_minor() <= 0 || r.gift_card().value_minor() > kMaxAmountMinor) {
        return InvalidArgument("reward.gift_card.value_minor: must be positive");
      }
      break;
    case v1::REWARD_KIND_FREE_PRODUCT:
      if (!r.has_free_product() || r.free_product().sku().empty()) {
        return InvalidArgument("reward.free_product.sku: required for a free product");
      }
      break;
    case v1::REWARD_KIND_DONATION:
      if (!r.has_donation() || r.donation().charity().empty()) {
        return InvalidArgument("reward.donation.charity: required for a donation");
      }
      break;
    default:
      return InvalidArgument("reward.kind: required (discount, gift_card, free_product, donation)");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateReward(const v1::Reward& r, const std::string& currency) {
  if (!r.reward_id().empty() && !ValidId(r.reward_id())) {
    return InvalidArgument("reward.reward_id: at most 128 letters, digits or _-.:@");
  }
  if (r.name().empty()) return InvalidArgument("reward.name: required");
  if (r.name().size() > 200) return InvalidArgument("reward.name: longer than 200 characters");
  if (r.description().size() > kMaxTextLength) {
    return InvalidArgument("reward.description: longer than 1000 characters");
  }
  if (!r.currency().empty() && r.currency() != currency) {
    return InvalidArgument("reward.currency: the program's currency is " + currency);
  }
  if (Status s = ValidateKind(r); !s.ok()) return s;
  if (r.points_price() <= 0 || r.points_price() > kMaxPoints) {
    return InvalidArgument("reward.points_price: must be positive");
  }
  if (!r.unlimited_stock() && (r.stock_total() < 0 || r.stock_total() > kMaxPoints)) {
    return InvalidArgument("reward.stock_total: must not be negative");
  }
  if (r.valid_from_ms() < 0) return InvalidArgument("reward.valid_from_ms: must not be negative");
  if (r.valid_until_ms() < 0) return InvalidArgument("reward.valid_until_ms: must not be negative");
  if (r.valid_until_ms() != 0 && r.valid_until_ms() <= r.valid_from_ms()) {
    return InvalidArgument("reward.valid_until_ms: must be after valid_from_ms");
  }
  if (r.per_member_limit() < 0) {
    return InvalidArgument("reward.per_member_limit: must not be negative");
  }
  if (r.voucher_validity_days() < 0 || r.voucher_validity_days() > 3650) {
    return InvalidArgument("reward.voucher_validity_days: must be in 0..3650");
  }
  auto audience = r.visibility().audience();
  if (!v1::Audience_IsValid(audience))
    return InvalidArgument("reward.visibility.audience: unknown");
  if (audience != v1::AUDIENCE_UNSPECIFIED && audience != v1::AUDIENCE_ALL &&
      r.visibility().values().empty()) {
    return InvalidArgument("reward.visibility.values: required for " + v1::Audience_Name(audience));
  }
  for (const auto& v : r.visibility().values()) {
    if (v.empty() || v.size() > kMaxIdLength) {
      return InvalidArgument("reward.visibility.values: empty or too long value");
    }
  }
  for (const auto& s : r.store_ids()) {
    if (!ValidId(s))
      return InvalidArgument("reward.store_ids: '" + Quote(s) + "' is not a valid id");
  }
  return Status::Ok();
}

std::string KindName(v1::RewardKind kind) {
  switch (kind) {
    case v1::REWARD_KIND_DISCOUNT:
      return "discount";
    case v1::REWARD_KIND_GIFT_CARD:
      return "gift_card";
    case v1::REWARD_KIND_FREE_PRODUCT:
      return "free_product";
    case v1::REWARD_KIND_DONATION:
      return "donation";
    default:
      return "unspecified";
  }
}

Catalog::Catalog(const Store& store, const Clock& clock, MemberStates& members,
                 std::string currency)
    : clock_(clock), members_(members), currency_(std::move(currency)) {
  store.Scan(cf::kRewards, "", "", [&](std::string_view key, std::string_view value) {
    Reward& r = rewards_[std::string(key)];
    r.ParseFromArray(value.data(), static_cast<int>(value.size()));
    return true;
  });
}

StatusOr<Reward> Catalog::Create(Txn& txn, const v1::CreateRewardRequest& request) {
  if (Status s = ValidateReward(request.reward(), currency_); !s.ok()) return s;
  Reward r = request.reward();
  int64_t now = clock_.NowMs();
  if (r.reward_id().empty()) r.set_reward_id(NewId("rw", now));
  if (rewards_.count(r.reward_id())) {
    return AlreadyExists("reward.reward_id: '" + Quote(r.reward_id()) + "' already exists");
  }
  if (r.currency().empty()) r.set_currency(currency_);
  r.set_stock_used(0);
  r.set_created_at_ms(now);
  r.set_updated_at_ms(now);
  rewards_[r.reward_id()] = r;
  txn.dirty_rewards.insert(r.reward_id());
  return r;
}

StatusOr<Reward> Catalog::Update(Txn& txn, const v1::UpdateRewardRequest& request) {
  if (Status s = CheckId("reward.reward_id", request.reward().reward_id()); !s.ok()) return s;
  if (Status s = ValidateReward(request.reward(), currency_); !s.ok()) return s;
  auto it = rewards_.find(request.reward().reward_id());
  if (it == rewards_.end()) {
    return NotFound("reward.reward_id: reward '" + Quote(request.reward().reward_id()) +
                    "' not found");
  }
  Reward r = request.reward();
  if (!r.unlimited_stock() && r.stock_total() < it->second.stock_used()) {
    return FailedPrecondition("reward.stock_total: below the " +
                              std::to_string(it->second.stock_used()) +
                              " units already reserved or redeemed");
  }
  if (r.currency().empty()) r.set_currency(currency_);
  r.set_stock_used(it->second.stock_used());
  r.set_created_at_ms(it->second.created_at_ms());
  r.set_updated_at_ms(clock_.NowMs());
  it->second = r;
  txn.dirty_rewards.insert(r.reward_id());
  return r;
}

Reward* Catalog::Find(const std::string& reward_id) {
  auto it = rewards_.find(reward_id);
  return it == rewards_.end() ? nullptr : &it->second;
}

StatusOr<Reward> Catalog::Get(const std::string& reward_id) const {
  auto it = rewards_.find(reward_id);
  if (it == rewards_.end())
    return NotFound("reward_id: reward '" + Quote(reward_id) + "' not found");
  return it->second;
}

bool Catalog::NeedsMember(const std::string& reward_id) const {
  auto it = rewards_.find(reward_id);
  return it != rewards_.end() && (it->second.visibility().audience() == v1::AUDIENCE_TIERS ||
                                  it->second.visibility().audience() == v1::AUDIENCE_SEGMENTS);
}

Status Catalog::CheckRedeemable(const Reward& reward, const std::string& member_id,
                                const v1::Member& member, int64_t quantity) {
  int64_t now = clock_.NowMs();
  if (!reward.active()) return FailedPrecondition("reward_id: reward is not active");
  if (reward.valid_from_ms() != 0 && now < reward.valid_from_ms()) {
    return FailedPrecondition("reward_id: reward is not available yet");
  }
  if (reward.valid_until_ms() != 0 && now >= reward.valid_until_ms()) {
    return FailedPrecondition("reward_id: reward is no longer available");
  }
  const auto& values = reward.visibility().values();
  auto contains = [&](const std::string& v) {
    return std::find(values.begin(), values.end(), v) != values.end();
  };
  switch (reward.visibility().audience()) {
    case v1::AUDIENCE_TIERS:
      if (!contains(member.tier())) {
        return FailedPrecondition("reward_id: reward is for other tiers than " + member.tier());
      }
      break;
    case v1::AUDIENCE_SEGMENTS: {
      const auto& segments = member.segments();
      if (std::none_of(segments.begin(), segments.end(), contains)) {
        return FailedPrecondition("reward_id: reward is for other segments");
      }
      break;
    }
    case v1::AUDIENCE_MEMBERS:
      if (!contains(member_id)) {
        return FailedPrecondition("reward_id: reward is exclusive to other members");
      }
      break;
    default:
      break;
  }
  if (!reward.unlimited_stock() && reward.stock_used() + quantity > reward.stock_total()) {
    return FailedPrecondition("quantity: only " +
                              std::to_string(reward.stock_total() - reward.stock_used()) +
                              " left in stock");
  }
  if (reward.per_member_limit() > 0) {
    int64_t used = members_.UnitsOf(member_id, reward.reward_id());
    if (used + quantity > reward.per_member_limit()) {
      return FailedPrecondition("quantity: the limit is " +
                                std::to_string(reward.per_member_limit()) + " per member, " +
                                std::to_string(used) + " already redeemed");
    }
  }
  return Status::Ok();
}

void Catalog::TakeStock(Txn& txn, Reward& reward, int64_t quantity) {
  reward.set_stock_used(reward.stock_used() + quantity);
  txn.dirty_rewards.insert(reward.reward_id());
}

void Catalog::ReleaseStock(Txn& txn, const std::string& reward_id, int64_t quantity) {
  auto it = rewards_.find(reward_id);
  if (it == rewards_.end()) return;
  it->second.set_stock_used(std::max<int64_t>(0, it->second.stock_used() - quantity));
  txn.dirty_rewards.insert(it->first);
}

v1::RewardOffer Catalog::OfferFor(const Reward& reward, const std::string& member_id,
                                  const v1::Member& member) {
  int64_t available = member.balance().available();
  int64_t pending = member.balance().pending();
  v1::RewardOffer offer;
  *offer.mutable_reward() = reward;
  offer.set_affordable(reward.points_price() <= available);
  offer.set_points_short(std::max<int64_t>(0, reward.points_price() - available));
  offer.set_affordable_soon(!offer.affordable() && reward.points_price() <= available + pending);
  int64_t left = -1;
  if (reward.per_member_limit() > 0) {
    left = reward.per_member_limit() - members_.UnitsOf(member_id, reward.reward_id());
  }
  offer.set_units_left_for_member(left);
  return offer;
}

v1::ListRewardsResponse Catalog::Offers(const v1::ListRewardsRequest& request,
                                        const v1::Member* member) {
  v1::ListRewardsResponse response;
  std::vector<v1::RewardOffer> offers;
  for (const auto& [id, reward] : rewards_) {
    if (member == nullptr) {
      *offers.emplace_back().mutable_reward() = reward;
    } else if (CheckRedeemable(reward, request.member_id(), *member, 1).ok()) {
      offers.push_back(OfferFor(reward, request.member_id(), *member));
    }
  }
  auto by_price = [](const v1::RewardOffer& a, const v1::RewardOffer& b) {
    if (a.reward().points_price() != b.reward().points_price()) {
      return a.reward().points_price() < b.reward().points_price();
    }
    return a.reward().reward_id() < b.reward().reward_id();
  };
  switch (request.order()) {
    case v1::REWARD_ORDER_DEAREST_FIRST:
      std::sort(offers.begin(), offers.end(),
                [&](const auto& a, const auto& b) { return by_price(b, a); });
      break;
    case v1::REWARD_ORDER_NEWEST_FIRST:
      std::sort(offers.begin(), offers.end(), [](const auto& a, const auto& b) {
        if (a.reward().created_at_ms() != b.reward().created_at_ms()) {
          return a.reward().created_at_ms() > b.reward().created_at_ms();
        }
        return a.reward().reward_id() < b.reward().reward_id();
      });
      break;
    default:
      std::sort(offers.begin(), offers.end(), by_price);
      break;
  }
  for (auto& offer : offers) *response.add_offers() = std::move(offer);
  return response;
}

void Catalog::WriteDirty(const Txn& txn, StagedWrite& write) const {
  for (const auto& id : txn.dirty_rewards) {
    write.Put(cf::kRewards, id, rewards_.at(id).SerializeAsString());
  }
}

}  // namespace loyalty::redemption
