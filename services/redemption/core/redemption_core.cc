#include "services/redemption/core/redemption_core.h"

#include <algorithm>
#include <cctype>
#include <random>

#include "common/accrual_retry.h"
#include "common/event_stamp.h"
#include "common/idempotent.h"
#include "common/ids.h"
#include "common/key_codec.h"
#include "common/unit_of_work.h"
#include "services/redemption/core/prize_draw.h"
#include "services/redemption/core/voucher_code.h"

namespace loyalty::redemption {
namespace {

constexpr char kRewardsCf[] = "rewards";
constexpr char kMembersCf[] = "members";
constexpr char kRedemptionsCf[] = "redemptions";
constexpr char kMemberRedemptionsCf[] = "member_redemptions";
constexpr char kVouchersCf[] = "vouchers";
constexpr char kPendingCf[] = "pending_sagas";
constexpr char kIdempotencyCf[] = "idempotency";
constexpr char kCheckoutsCf[] = "checkouts";
constexpr char kOpenCheckoutsCf[] = "open_checkouts";
constexpr char kDrawsCf[] = "draws";

constexpr int64_t kMaxPoints = 1'000'000'000'000;
constexpr int64_t kMaxAmountMinor = 100'000'000'000;
constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxTextLength = 1000;
constexpr size_t kMaxEntrants = 1'000'000;

using v1::Checkout;
using v1::Redemption;
using v1::Reward;
using v1::Voucher;
using v1::redemptioninternal::CheckoutRecord;
using v1::redemptioninternal::IdempotencyEntry;
using v1::redemptioninternal::MemberState;

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '@';
  });
}

Status CheckId(const std::string& field, const std::string& id) {
  if (id.empty()) return InvalidArgument(field + ": required");
  if (!ValidId(id)) {
    return InvalidArgument(field + ": at most 128 letters, digits or _-.:@");
  }
  return Status::Ok();
}

std::string MemberRedemptionKey(const std::string& member_id, const std::string& redemption_id) {
  std::string out;
  keys::AppendString(out, member_id);
  keys::AppendString(out, redemption_id);
  return out;
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

bool IsRedemptionId(const std::string& id) { return id.rfind("r_", 0) == 0; }

std::string HoldKey(const std::string& id) { return "redemption:" + id + ":hold"; }
std::string CaptureKey(const std::string& id) { return "redemption:" + id + ":capture"; }
std::string VoidKey(const std::string& id) { return "redemption:" + id + ":void"; }
std::string AwardKey(const std::string& id) { return "redemption:" + id + ":return"; }

// Checks a reward as given to Create/Update; the field names are the request's.
Status ValidateReward(const Reward& r, const std::string& currency) {
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
    if (!ValidId(s)) return InvalidArgument("reward.store_ids: '" + s + "' is not a valid id");
  }
  return Status::Ok();
}

// floor(a * b / c) without overflow; a, b, c >= 0, c > 0.
int64_t MulDiv(int64_t a, int64_t b, int64_t c) {
  return static_cast<int64_t>(static_cast<__int128>(a) * b / c);
}

}  // namespace

std::vector<std::string> RedemptionColumnFamilies() {
  return {kRewardsCf,       kMembersCf, kRedemptionsCf, kMemberRedemptionsCf,
          kVouchersCf,      kPendingCf, kIdempotencyCf, kCheckoutsCf,
          kOpenCheckoutsCf, kDrawsCf,   kOutboxCf};
}

// The changes of one step, staged together, and the cached records they touched.
struct RedemptionCore::Txn : UnitOfWork {
  std::set<std::string> dirty_members;
  std::set<std::string> dirty_rewards;
};

RedemptionCore::RedemptionCore(Store& store, Outbox& outbox, const Clock& clock,
                               AccrualClient& accrual, RedemptionConfig config,
                               RedemptionObserver* observer)
    : store_(store),
      outbox_(outbox),
      clock_(clock),
      accrual_(accrual),
      config_(std::move(config)),
      observer_(observer ? observer : &null_observer_) {
  store_.Scan(kRewardsCf, "", "", [&](std::string_view key, std::string_view value) {
    Reward& r = rewards_[std::string(key)];
    r.ParseFromArray(value.data(), static_cast<int>(value.size()));
    return true;
  });
  store_.Scan(kPendingCf, "", "", [&](std::string_view key, std::string_view) {
    pending_.insert(std::string(key));
    return true;
  });
  store_.Scan(kOpenCheckoutsCf, "", "", [&](std::string_view key, std::string_view value) {
    open_checkouts_.emplace(keys::ReadI64(value), std::string(key));
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Plumbing: staging, idempotency, members, events, claims.

uint64_t RedemptionCore::Stage(Txn& txn) {
  return store_.Stage([&](StagedWrite& write) {
    for (const auto& id : txn.dirty_members) {
      write.Put(kMembersCf, id, members_.at(id).SerializeAsString());
    }
    for (const auto& id : txn.dirty_rewards) {
      write.Put(kRewardsCf, id, rewards_.at(id).SerializeAsString());
    }
    txn.WriteTo(write, outbox_);
  });
}

void RedemptionCore::Finish(uint64_t ticket) {
  store_.WaitDurable(ticket);
  observer_->Committed();
}

template <typename Response, typename Request>
StatusOr<Response> RedemptionCore::Idempotent(
    const char* method, const Request& request, const std::string& key,
    const std::function<StatusOr<Response>(Txn&)>& apply) {
  auto outcome = RunIdempotent<IdempotencyEntry, Response, Txn>(
      store_, mu_, clock_.NowMs(), method, request, key, apply,
      [this](Txn& txn) { return Stage(txn); });
  if (outcome.ticket != 0) Finish(outcome.ticket);
  return std::move(outcome.result);
}

StatusOr<std::string> RedemptionCore::SagaForKey(const char* method, const std::string& key,
                                                 const std::string& request_bytes) {
  std::string stored;
  if (!store_.Get(kIdempotencyCf, IdempotencyRecordKey(method, key), &stored)) return std::string();
  IdempotencyEntry entry;
  entry.ParseFromString(stored);
  if (entry.request() != request_bytes) {
    return AlreadyExists("idempotency_key: '" + key + "' was already used with other arguments");
  }
  return entry.target_id();
}

void RedemptionCore::RememberSagaKey(Txn& txn, const char* method, const std::string& key,
                                     const std::string& request_bytes, const std::string& saga_id) {
  IdempotencyEntry entry;
  entry.set_request(request_bytes);
  entry.set_target_id(saga_id);
  entry.set_created_at_ms(clock_.NowMs());
  txn.Put(kIdempotencyCf, IdempotencyRecordKey(method, key), entry.SerializeAsString(),
          /*visible=*/true);
}

MemberState& RedemptionCore::Member(const std::string& member_id) {
  auto it = members_.find(member_id);
  if (it != members_.end()) return it->second;
  MemberState& state = members_[member_id];
  std::string value;
  if (store_.Get(kMembersCf, member_id, &value)) state.ParseFromString(value);
  return state;
}

void RedemptionCore::AddEvent(Txn& txn, const std::string& member_id, v1::LoyaltyEvent event) {
  MemberState& member = Member(member_id);
  // Redemption's own per-member sequence: the prefix keeps ids apart from accrual's.
  static const EventSource kSource{"redemption", "redemption:"};
  int64_t sequence = member.last_sequence();
  txn.Publish(StampEvent(kSource, sequence, member_id, clock_.NowMs(), event));
  member.set_last_sequence(sequence);
  txn.dirty_members.insert(member_id);
}

Redemption* RedemptionCore::FindRedemption(const std::string& redemption_id) {
  auto it = redemptions_.find(redemption_id);
  if (it != redemptions_.end()) return &it->second;
  std::string value;
  if (redemption_id.empty() || !store_.Get(kRedemptionsCf, redemption_id, &value)) return nullptr;
  Redemption& r = redemptions_[redemption_id];
  r.ParseFromString(value);
  return &r;
}

void RedemptionCore::TrimFinished() {
  const size_t keep = static_cast<size_t>(config_.cached_finished);
  auto trim = [&](auto& cache, auto finished) {
    if (cache.size() <= 2 * keep) return;
    for (auto it = cache.begin(); it != cache.end() && cache.size() > keep;) {
      bool in_use = pending_.count(it->first) != 0 || claimed_.count(it->first) != 0;
      it = in_use || !finished(it->second) ? std::next(it) : cache.erase(it);
    }
  };
  trim(redemptions_, [](const Redemption& r) {
    return r.state() == v1::REDEMPTION_STATE_COMPLETED ||
           r.state() == v1::REDEMPTION_STATE_FAILED || r.state() == v1::REDEMPTION_STATE_CANCELLED;
  });
  trim(checkouts_, [](const CheckoutRecord& record) {
    auto state = record.checkout().state();
    return state == v1::CHECKOUT_STATE_COMPLETED || state == v1::CHECKOUT_STATE_CANCELLED ||
           state == v1::CHECKOUT_STATE_EXPIRED || state == v1::CHECKOUT_STATE_FAILED;
  });
}

size_t RedemptionCore::CachedRedemptions() const {
  std::lock_guard lock(mu_);
  return redemptions_.size();
}

size_t RedemptionCore::CachedCheckouts() const {
  std::lock_guard lock(mu_);
  return checkouts_.size();
}

void RedemptionCore::PutRedemption(Txn& txn, const Redemption& redemption) {
  redemptions_[redemption.redemption_id()] = redemption;
  txn.Put(kRedemptionsCf, redemption.redemption_id(), redemption.SerializeAsString(), true);
}

void RedemptionCore::PutVoucher(Txn& txn, const Voucher& voucher) {
  txn.Put(kVouchersCf, voucher.code(), voucher.SerializeAsString(), true);
}

StatusOr<Voucher> RedemptionCore::LoadVoucher(const std::string& code) {
  std::string value;
  if (!store_.Get(kVouchersCf, code, &value)) return NotFound("code: no such voucher");
  Voucher v;
  v.ParseFromString(value);
  return v;
}

Voucher RedemptionCore::WithDisplayStatus(Voucher voucher) const {
  if (voucher.status() == v1::VOUCHER_STATUS_ACTIVE && clock_.NowMs() >= voucher.valid_until_ms()) {
    voucher.set_status(v1::VOUCHER_STATUS_EXPIRED);
  }
  return voucher;
}

void RedemptionCore::ReleaseStock(Txn& txn, const Redemption& redemption) {
  auto it = rewards_.find(redemption.reward_id());
  if (it != rewards_.end()) {
    it->second.set_stock_used(
        std::max<int64_t>(0, it->second.stock_used() - redemption.quantity()));
    txn.dirty_rewards.insert(it->first);
  }
  // Prize winners never counted against the per-member limit.
  if (redemption.draw_id().empty()) {
    MemberState& member = Member(redemption.member_id());
    auto& units = (*member.mutable_units_by_reward())[redemption.reward_id()];
    units = std::max<int64_t>(0, units - redemption.quantity());
    txn.dirty_members.insert(redemption.member_id());
  }
}

std::vector<Voucher> RedemptionCore::IssueVouchers(Txn& txn, const Redemption& redemption,
                                                   const Reward& reward) {
  std::vector<Voucher> vouchers;
  // A donation is given on the member's behalf: nothing to present at a till.
  if (reward.kind() == v1::REWARD_KIND_DONATION) return vouchers;
  auto random64 = [this] {
    return (static_cast<uint64_t>(random_device_()) << 32) | random_device_();
  };
  int64_t now = clock_.NowMs();
  int64_t days = reward.voucher_validity_days() > 0 ? reward.voucher_validity_days()
                                                    : config_.default_voucher_validity_days;
  int64_t until = now + days * kDayMs;
  if (reward.valid_until_ms() != 0) until = std::min(until, reward.valid_until_ms());
  for (int64_t i = 0; i < redemption.quantity(); ++i) {
    Voucher v;
    std::string ignored;
    do {
      v.set_code(NewVoucherCode(random64));
    } while (store_.Get(kVouchersCf, v.code(), &ignored));  // 75 bits: practically never
    v.set_redemption_id(redemption.redemption_id());
    v.set_reward_id(redemption.reward_id());
    v.set_member_id(redemption.member_id());
    v.set_status(v1::VOUCHER_STATUS_ACTIVE);
    v.set_valid_from_ms(now);
    v.set_valid_until_ms(until);
    PutVoucher(txn, v);
    vouchers.push_back(std::move(v));
  }
  return vouchers;
}

void RedemptionCore::Claim(const std::string& id) {
  std::unique_lock lock(mu_);
  claims_cv_.wait(lock, [&] { return claimed_.count(id) == 0; });
  claimed_.insert(id);
}

bool RedemptionCore::TryClaim(const std::string& id) {
  std::lock_guard lock(mu_);
  return claimed_.insert(id).second;
}

void RedemptionCore::ClaimAsync(const std::string& id, std::function<void()> then) {
  {
    std::lock_guard lock(mu_);
    if (!claimed_.insert(id).second) {
      claim_waiters_[id].push_back(std::move(then));
      return;
    }
  }
  then();
}

void RedemptionCore::Unclaim(const std::string& id) {
  std::function<void()> next;
  {
    std::lock_guard lock(mu_);
    auto waiting = claim_waiters_.find(id);
    if (waiting == claim_waiters_.end()) {
      claimed_.erase(id);
    } else {
      // Handed over: the claim stays taken, now for the first asynchronous waiter.
      next = std::move(waiting->second.front());
      waiting->second.pop_front();
      if (waiting->second.empty()) claim_waiters_.erase(waiting);
    }
  }
  if (next) return next();
  claims_cv_.notify_all();
}

template <typename T>
StatusOr<T> RedemptionCore::CallAccrual(const std::string& step,
                                        const std::function<StatusOr<T>()>& call) {
  for (int attempt = 1;; ++attempt) {
    StatusOr<T> result = call();
    bool retry = ShouldRetryAccrualCall(result.status());  // false for a success
    if (!retry || attempt >= config_.accrual_attempts) {
      if (retry) observer_->SagaStepRetried(step);
      return result;
    }
    observer_->SagaStepRetried(step);
  }
}

// ---------------------------------------------------------------------------------------------
// Catalog.

StatusOr<Reward> RedemptionCore::CreateReward(const v1::CreateRewardRequest& request) {
  return Idempotent<Reward>(
      "CreateReward", request, request.idempotency_key(), [&](Txn& txn) -> StatusOr<Reward> {
        if (Status s = ValidateReward(request.reward(), config_.currency); !s.ok()) {
          return s;
        }
        Reward r = request.reward();
        int64_t now = clock_.NowMs();
        if (r.reward_id().empty()) r.set_reward_id(NewId("rw", now));
        if (rewards_.count(r.reward_id())) {
          return AlreadyExists("reward.reward_id: '" + r.reward_id() + "' already exists");
        }
        if (r.currency().empty()) r.set_currency(config_.currency);
        r.set_stock_used(0);
        r.set_created_at_ms(now);
        r.set_updated_at_ms(now);
        rewards_[r.reward_id()] = r;
        txn.dirty_rewards.insert(r.reward_id());
        return r;
      });
}

StatusOr<Reward> RedemptionCore::UpdateReward(const v1::UpdateRewardRequest& request) {
  return Idempotent<Reward>(
      "UpdateReward", request, request.idempotency_key(), [&](Txn& txn) -> StatusOr<Reward> {
        if (Status s = CheckId("reward.reward_id", request.reward().reward_id()); !s.ok()) return s;
        if (Status s = ValidateReward(request.reward(), config_.currency); !s.ok()) return s;
        auto it = rewards_.find(request.reward().reward_id());
        if (it == rewards_.end()) {
          return NotFound("reward.reward_id: reward '" + request.reward().reward_id() +
                          "' not found");
        }
        Reward r = request.reward();
        if (!r.unlimited_stock() && r.stock_total() < it->second.stock_used()) {
          return FailedPrecondition("reward.stock_total: below the " +
                                    std::to_string(it->second.stock_used()) +
                                    " units already reserved or redeemed");
        }
        if (r.currency().empty()) r.set_currency(config_.currency);
        r.set_stock_used(it->second.stock_used());
        r.set_created_at_ms(it->second.created_at_ms());
        r.set_updated_at_ms(clock_.NowMs());
        it->second = r;
        txn.dirty_rewards.insert(r.reward_id());
        return r;
      });
}

StatusOr<Reward> RedemptionCore::GetReward(const std::string& reward_id) {
  if (Status s = CheckId("reward_id", reward_id); !s.ok()) return s;
  std::lock_guard lock(mu_);
  auto it = rewards_.find(reward_id);
  if (it == rewards_.end()) return NotFound("reward_id: reward '" + reward_id + "' not found");
  return it->second;
}

// Under mu_. Everything except the points: visibility, window, stock and the member's limit.
Status RedemptionCore::CheckRedeemable(const Reward& reward, const std::string& member_id,
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
    auto& units = Member(member_id).units_by_reward();
    auto it = units.find(reward.reward_id());
    int64_t used = it == units.end() ? 0 : it->second;
    if (used + quantity > reward.per_member_limit()) {
      return FailedPrecondition("quantity: the limit is " +
                                std::to_string(reward.per_member_limit()) + " per member, " +
                                std::to_string(used) + " already redeemed");
    }
  }
  return Status::Ok();
}

StatusOr<v1::ListRewardsResponse> RedemptionCore::ListRewards(
    const v1::ListRewardsRequest& request) {
  v1::ListRewardsResponse response;
  std::vector<v1::RewardOffer> offers;
  if (request.member_id().empty()) {
    std::lock_guard lock(mu_);
    for (const auto& [id, reward] : rewards_) *offers.emplace_back().mutable_reward() = reward;
  } else {
    if (Status s = CheckId("member_id", request.member_id()); !s.ok()) return s;
    // Tier, segments and balance are accrual's, read outside the lock.
    auto member = accrual_.GetMember(request.member_id());
    if (!member.ok()) return member.status();
    response.set_tier(member->tier());
    *response.mutable_balance() = member->balance();
    int64_t available = member->balance().available();
    int64_t pending = member->balance().pending();
    std::lock_guard lock(mu_);
    for (const auto& [id, reward] : rewards_) {
      if (!CheckRedeemable(reward, request.member_id(), *member, 1).ok()) continue;
      v1::RewardOffer& offer = offers.emplace_back();
      *offer.mutable_reward() = reward;
      offer.set_affordable(reward.points_price() <= available);
      offer.set_points_short(std::max<int64_t>(0, reward.points_price() - available));
      offer.set_affordable_soon(!offer.affordable() &&
                                reward.points_price() <= available + pending);
      int64_t left = -1;
      if (reward.per_member_limit() > 0) {
        const auto& units = Member(request.member_id()).units_by_reward();
        auto it = units.find(id);
        left = reward.per_member_limit() - (it == units.end() ? 0 : it->second);
      }
      offer.set_units_left_for_member(left);
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

// ---------------------------------------------------------------------------------------------
// The redeem saga.

Status RedemptionCore::CheckRedeemRequest(const v1::RedeemRequest& request) const {
  if (Status s = CheckId("member_id", request.member_id()); !s.ok()) return s;
  if (Status s = CheckId("reward_id", request.reward_id()); !s.ok()) return s;
  if (request.quantity() < 0 || request.quantity() > config_.max_quantity) {
    return InvalidArgument("quantity: must be in 1.." + std::to_string(config_.max_quantity));
  }
  return CheckIdempotencyKey(request.idempotency_key());
}

bool RedemptionCore::NeedsMember(const std::string& reward_id) const {
  std::lock_guard lock(mu_);
  auto it = rewards_.find(reward_id);
  return it != rewards_.end() && (it->second.visibility().audience() == v1::AUDIENCE_TIERS ||
                                  it->second.visibility().audience() == v1::AUDIENCE_SEGMENTS);
}

StatusOr<RedemptionCore::Reservation> RedemptionCore::Reserve(const v1::RedeemRequest& request,
                                                              const v1::Member& member) {
  int64_t quantity = request.quantity() == 0 ? 1 : request.quantity();
  std::string request_bytes = request.SerializeAsString();
  std::lock_guard lock(mu_);
  TrimFinished();
  auto existing = SagaForKey("Redeem", request.idempotency_key(), request_bytes);
  if (!existing.ok()) return existing.status();
  if (!existing->empty()) return Reservation{*existing, 0};
  auto it = rewards_.find(request.reward_id());
  if (it == rewards_.end()) {
    return NotFound("reward_id: reward '" + request.reward_id() + "' not found");
  }
  Reward& reward = it->second;
  if (Status s = CheckRedeemable(reward, request.member_id(), member, quantity); !s.ok()) {
    return s;
  }
  if (reward.points_price() > kMaxPoints / quantity) {
    return InvalidArgument("quantity: the total price is too large");
  }
  // Reserve: the stock and the member's units are taken now, under the lock, so that two
  // concurrent redemptions of the last unit cannot both pass the check above.
  Txn txn;
  int64_t now = clock_.NowMs();
  reward.set_stock_used(reward.stock_used() + quantity);
  txn.dirty_rewards.insert(reward.reward_id());
  MemberState& state = Member(request.member_id());
  (*state.mutable_units_by_reward())[reward.reward_id()] += quantity;
  txn.dirty_members.insert(request.member_id());
  Redemption r;
  r.set_redemption_id(NewId("r", now));
  r.set_member_id(request.member_id());
  r.set_reward_id(reward.reward_id());
  r.set_reward_kind(reward.kind());
  r.set_reward_name(reward.name());
  r.set_quantity(quantity);
  r.set_points(reward.points_price() * quantity);
  r.set_state(v1::REDEMPTION_STATE_RESERVED);
  r.set_created_at_ms(now);
  r.set_updated_at_ms(now);
  const std::string& id = r.redemption_id();
  PutRedemption(txn, r);
  txn.Put(kMemberRedemptionsCf, MemberRedemptionKey(r.member_id(), id), "");
  txn.Put(kPendingCf, id, "");
  pending_.insert(id);
  RememberSagaKey(txn, "Redeem", request.idempotency_key(), request_bytes, id);
  claimed_.insert(id);  // the caller drives the new saga
  // Durable before accrual is called: a restart must know about the hold it may find.
  return Reservation{id, Stage(txn)};
}

StatusOr<Redemption> RedemptionCore::Redeem(const v1::RedeemRequest& request) {
  if (Status s = CheckRedeemRequest(request); !s.ok()) return s;
  // Tier and segment audiences need accrual's view of the member, read before the lock; other
  // rewards spare the call (an unknown member is refused by the hold).
  v1::Member member;
  if (NeedsMember(request.reward_id())) {
    auto found = accrual_.GetMember(request.member_id());
    if (!found.ok()) return found.status();
    member = std::move(*found);
  }
  auto reserved = Reserve(request, member);
  if (!reserved.ok()) return reserved.status();
  if (reserved->ticket != 0) {
    Finish(reserved->ticket);
  } else {
    Claim(reserved->id);  // a retry: wait for whoever drives it, then drive or read it
  }
  auto result = DriveRedemption(reserved->id);
  Unclaim(reserved->id);
  return result;
}

void RedemptionCore::RedeemAsync(const v1::RedeemRequest& request, RedemptionCallback done) {
  if (Status s = CheckRedeemRequest(request); !s.ok()) return done(s);
  if (NeedsMember(request.reward_id())) {
    // Accrual's view of the member first: a blocking call, on the runner.
    return run_blocking_([this, request, done] {
      auto member = accrual_.GetMember(request.member_id());
      if (!member.ok()) return done(member.status());
      ReserveAndDrive(request, *member, done);
    });
  }
  ReserveAndDrive(request, v1::Member(), done);
}

void RedemptionCore::ReserveAndDrive(const v1::RedeemRequest& request, const v1::Member& member,
                                     const RedemptionCallback& done) {
  auto reserved = Reserve(request, member);
  if (!reserved.ok()) return done(reserved.status());
  std::string id = reserved->id;
  if (reserved->ticket == 0) {
    // A retried key: once whoever drives the saga lets go, drive it on or read its outcome.
    return ClaimAsync(id, [this, id, done] { DriveBlocking(id, done); });
  }
  store_.WhenDurable(reserved->ticket, [this, id, done] {
    observer_->Committed();
    accrual_.HoldPointsAsync(HoldRequest(id), [this, id, done](StatusOr<v1::Hold> hold) {
      if (!hold.ok()) {
        if (ShouldRetryAccrualCall(hold.status())) observer_->SagaStepRetried("hold");
        return DriveBlocking(id, done);
      }
      accrual_.CaptureHoldAsync(MarkHeld(id, *hold), [this, id, done](StatusOr<v1::Hold> captured) {
        if (!captured.ok()) {
          if (ShouldRetryAccrualCall(captured.status())) observer_->SagaStepRetried("capture");
          return DriveBlocking(id, done);
        }
        Completion completion = CompleteRedemption(id, *captured);
        store_.WhenDurable(completion.ticket, [this, id, completion, done] {
          Finish(completion);
          Redemption r;
          {
            std::lock_guard lock(mu_);
            r = *FindRedemption(id);
          }
          Unclaim(id);
          done(std::move(r));
        });
      });
    });
  });
}

void RedemptionCore::DriveBlocking(const std::string& id, const RedemptionCallback& done) {
  run_blocking_([this, id, done] {
    auto result = DriveRedemption(id);
    Unclaim(id);
    done(std::move(result));
  });
}

v1::HoldPointsRequest RedemptionCore::HoldRequest(const std::string& id) {
  std::lock_guard lock(mu_);
  const Redemption& r = *FindRedemption(id);
  v1::HoldPointsRequest request;
  request.set_member_id(r.member_id());
  request.set_points(r.points());
  request.set_ttl_seconds(config_.redeem_hold_ttl_seconds);
  request.set_reference("redemption " + id);
  request.set_idempotency_key(HoldKey(id));
  return request;
}

v1::CaptureHoldRequest RedemptionCore::MarkHeld(const std::string& id, const v1::Hold& hold) {
  // Staged, not waited for: after a crash the saga re-runs the hold with the same key and
  // accrual answers with this same hold.
  std::lock_guard lock(mu_);
  Redemption* found = FindRedemption(id);
  found->set_state(v1::REDEMPTION_STATE_HELD);
  found->set_hold_id(hold.hold_id());
  found->set_updated_at_ms(clock_.NowMs());
  Txn txn;
  PutRedemption(txn, *found);
  Stage(txn);
  v1::CaptureHoldRequest capture;
  capture.set_hold_id(hold.hold_id());
  capture.set_idempotency_key(CaptureKey(id));
  return capture;
}

RedemptionCore::Completion RedemptionCore::CompleteRedemption(const std::string& id,
                                                              const v1::Hold& captured) {
  // The vouchers, the event and the end of the saga in one write.
  std::lock_guard lock(mu_);
  Redemption* found = FindRedemption(id);
  Txn txn;
  found->set_points_captured(captured.captured());
  found->set_state(v1::REDEMPTION_STATE_COMPLETED);
  found->set_updated_at_ms(clock_.NowMs());
  auto reward_it = rewards_.find(found->reward_id());
  Reward reward = reward_it != rewards_.end() ? reward_it->second : Reward();
  reward.set_kind(found->reward_kind());
  for (auto& v : IssueVouchers(txn, *found, reward)) *found->add_vouchers() = std::move(v);
  PutRedemption(txn, *found);
  txn.Erase(kPendingCf, id);
  pending_.erase(id);
  v1::LoyaltyEvent event;
  auto* redeemed = event.mutable_reward_redeemed();
  redeemed->set_redemption_id(id);
  redeemed->set_reward_id(found->reward_id());
  redeemed->set_reward_name(found->reward_name());
  redeemed->set_reward_kind(KindName(found->reward_kind()));
  redeemed->set_quantity(found->quantity());
  redeemed->set_points(found->points_captured());
  for (const auto& v : found->vouchers()) {
    redeemed->add_voucher_codes(v.code());
    redeemed->set_valid_until_ms(v.valid_until_ms());
  }
  AddEvent(txn, found->member_id(), std::move(event));
  return {Stage(txn), found->reward_kind(), found->points_captured(), found->vouchers_size()};
}

void RedemptionCore::Finish(const Completion& completion) {
  observer_->Committed();
  observer_->RedemptionFinished(completion.kind, "completed", completion.points);
  observer_->VouchersIssued(completion.vouchers);
}

void RedemptionCore::FailRedemption(const std::string& id, const Status& why) {
  uint64_t ticket;
  Redemption r;
  {
    std::lock_guard lock(mu_);
    Redemption* found = FindRedemption(id);
    r = *found;
    Txn txn;
    ReleaseStock(txn, r);
    r.set_state(v1::REDEMPTION_STATE_FAILED);
    r.set_failure_code(static_cast<int32_t>(why.code()));
    r.set_failure_reason(why.message());
    r.set_updated_at_ms(clock_.NowMs());
    PutRedemption(txn, r);
    txn.Erase(kPendingCf, id);
    pending_.erase(id);
    ticket = Stage(txn);
  }
  Finish(ticket);
  observer_->RedemptionFinished(r.reward_kind(), "failed", 0);
}

StatusOr<Redemption> RedemptionCore::DriveRedemption(const std::string& id) {
  for (;;) {
    Redemption r;
    {
      std::lock_guard lock(mu_);
      Redemption* found = FindRedemption(id);
      if (found == nullptr) return NotFound("redemption_id: redemption '" + id + "' not found");
      r = *found;
    }
    switch (r.state()) {
      case v1::REDEMPTION_STATE_RESERVED: {
        v1::HoldPointsRequest hold_request = HoldRequest(id);
        auto hold =
            CallAccrual<v1::Hold>("hold", [&] { return accrual_.HoldPoints(hold_request); });
        if (!hold.ok()) {
          if (ShouldRetryAccrualCall(hold.status())) {
            return Status(Code::kUnavailable, "accrual: " + hold.status().message() +
                                                  " (redemption " + id + " continues later)");
          }
          FailRedemption(id, hold.status());  // nothing was held: only the stock goes back
          continue;
        }
        MarkHeld(id, *hold);
        continue;
      }
      case v1::REDEMPTION_STATE_HELD: {
        v1::CaptureHoldRequest capture_request;
        capture_request.set_hold_id(r.hold_id());
        capture_request.set_idempotency_key(CaptureKey(id));
        auto captured =
            CallAccrual<v1::Hold>("capture", [&] { return accrual_.CaptureHold(capture_request); });
        if (!captured.ok()) {
          if (ShouldRetryAccrualCall(captured.status())) {
            return Status(Code::kUnavailable, "accrual: " + captured.status().message() +
                                                  " (redemption " + id + " continues later)");
          }
          std::lock_guard lock(mu_);
          Redemption* found = FindRedemption(id);
          found->set_state(v1::REDEMPTION_STATE_COMPENSATING);
          found->set_failure_code(static_cast<int32_t>(captured.status().code()));
          found->set_failure_reason(captured.status().message());
          Txn txn;
          PutRedemption(txn, *found);
          Stage(txn);
          continue;
        }
        Completion completion = CompleteRedemption(id, *captured);
        store_.WaitDurable(completion.ticket);
        Finish(completion);
        continue;
      }
      case v1::REDEMPTION_STATE_COMPENSATING: {
        if (!r.hold_id().empty()) {
          v1::VoidHoldRequest void_request;
          void_request.set_hold_id(r.hold_id());
          void_request.set_idempotency_key(VoidKey(id));
          auto voided =
              CallAccrual<v1::Hold>("void", [&] { return accrual_.VoidHold(void_request); });
          // A refusal means the hold is already closed (expired or voided): nothing is held.
          if (!voided.ok() && ShouldRetryAccrualCall(voided.status())) {
            return Status(Code::kUnavailable, "accrual: " + voided.status().message() +
                                                  " (redemption " + id + " continues later)");
          }
        }
        FailRedemption(id, Status(static_cast<Code>(r.failure_code()), r.failure_reason()));
        continue;
      }
      case v1::REDEMPTION_STATE_CANCELLING: {
        bool returned = true;
        if (r.points_captured() > 0) {
          v1::AwardPointsRequest award;
          award.set_member_id(r.member_id());
          award.set_points(r.points_captured());
          award.set_reason("redemption " + id + " cancelled");
          award.set_source("redemption");
          award.set_idempotency_key(AwardKey(id));
          auto entry =
              CallAccrual<v1::LedgerEntry>("award", [&] { return accrual_.AwardPoints(award); });
          if (!entry.ok() && ShouldRetryAccrualCall(entry.status())) {
            return Status(Code::kUnavailable, "accrual: " + entry.status().message() +
                                                  " (cancellation " + id + " continues later)");
          }
          // Refused (the member was erased): nobody to give the points back to.
          returned = entry.ok();
        }
        uint64_t ticket;
        int64_t points_returned;
        {
          std::lock_guard lock(mu_);
          Redemption* found = FindRedemption(id);
          Txn txn;
          found->set_state(v1::REDEMPTION_STATE_CANCELLED);
          found->set_points_returned(returned ? found->points_captured() : 0);
          found->set_updated_at_ms(clock_.NowMs());
          points_returned = found->points_returned();
          PutRedemption(txn, *found);
          txn.Erase(kPendingCf, id);
          pending_.erase(id);
          v1::LoyaltyEvent event;
          auto* cancelled = event.mutable_redemption_cancelled();
          cancelled->set_redemption_id(id);
          cancelled->set_reward_id(found->reward_id());
          cancelled->set_points_returned(points_returned);
          cancelled->set_reason(found->cancel_reason());
          AddEvent(txn, found->member_id(), std::move(event));
          ticket = Stage(txn);
        }
        Finish(ticket);
        observer_->RedemptionFinished(r.reward_kind(), "cancelled", points_returned);
        continue;
      }
      case v1::REDEMPTION_STATE_FAILED:
        return Status(static_cast<Code>(r.failure_code()), r.failure_reason());
      default:
        return r;  // completed or cancelled
    }
  }
}

StatusOr<Redemption> RedemptionCore::GetRedemption(const std::string& redemption_id) {
  if (Status s = CheckId("redemption_id", redemption_id); !s.ok()) return s;
  std::lock_guard lock(mu_);
  TrimFinished();
  Redemption* r = FindRedemption(redemption_id);
  if (r == nullptr) return NotFound("redemption_id: redemption '" + redemption_id + "' not found");
  Redemption out = *r;
  for (auto& v : *out.mutable_vouchers()) v = WithDisplayStatus(v);
  return out;
}

StatusOr<v1::ListRedemptionsResponse> RedemptionCore::ListRedemptions(
    const std::string& member_id) {
  if (Status s = CheckId("member_id", member_id); !s.ok()) return s;
  std::vector<std::string> ids;
  std::string prefix;
  keys::AppendString(prefix, member_id);
  std::string end = prefix;
  end.back() = '\x02';
  store_.Scan(kMemberRedemptionsCf, prefix, end, [&](std::string_view key, std::string_view) {
    size_t pos = prefix.size();
    std::string id;
    if (keys::ReadString(key, pos, id)) ids.push_back(id);
    return ids.size() < 10000;
  });
  v1::ListRedemptionsResponse response;
  for (const auto& id : ids) {
    auto r = GetRedemption(id);
    if (r.ok()) *response.add_redemptions() = std::move(*r);
  }
  return response;
}

StatusOr<Redemption> RedemptionCore::CancelRedemption(const v1::CancelRedemptionRequest& request) {
  if (Status s = CheckId("redemption_id", request.redemption_id()); !s.ok()) return s;
  if (request.reason().size() > kMaxTextLength) {
    return InvalidArgument("reason: longer than 1000 characters");
  }
  if (Status s = CheckIdempotencyKey(request.idempotency_key()); !s.ok()) return s;
  const std::string& id = request.redemption_id();
  std::string request_bytes = request.SerializeAsString();
  Claim(id);
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    auto existing = SagaForKey("CancelRedemption", request.idempotency_key(), request_bytes);
    Status refusal;
    Redemption* r = FindRedemption(id);
    if (!existing.ok()) {
      refusal = existing.status();
    } else if (existing->empty()) {
      int64_t now = clock_.NowMs();
      if (r == nullptr) {
        refusal = NotFound("redemption_id: redemption '" + id + "' not found");
      } else if (r->state() != v1::REDEMPTION_STATE_COMPLETED) {
        refusal = FailedPrecondition("redemption_id: redemption is " +
                                     v1::RedemptionState_Name(r->state()));
      } else if (r->reward_kind() == v1::REWARD_KIND_DONATION) {
        refusal = FailedPrecondition("redemption_id: a donation cannot be cancelled");
      } else {
        for (const auto& v : r->vouchers()) {
          if (v.status() == v1::VOUCHER_STATUS_USED) {
            refusal = FailedPrecondition("redemption_id: voucher " + v.code() + " was used");
          } else if (v.status() != v1::VOUCHER_STATUS_ACTIVE || now >= v.valid_until_ms()) {
            refusal = FailedPrecondition("redemption_id: voucher " + v.code() + " expired");
          }
          if (!refusal.ok()) break;
        }
      }
      if (refusal.ok()) {
        // The vouchers stop working and the stock returns in the same write that starts
        // giving the points back.
        Txn txn;
        for (auto& v : *r->mutable_vouchers()) {
          v.set_status(v1::VOUCHER_STATUS_CANCELLED);
          PutVoucher(txn, v);
        }
        ReleaseStock(txn, *r);
        r->set_state(v1::REDEMPTION_STATE_CANCELLING);
        r->set_cancel_reason(request.reason());
        r->set_updated_at_ms(now);
        PutRedemption(txn, *r);
        txn.Put(kPendingCf, id, "");
        pending_.insert(id);
        RememberSagaKey(txn, "CancelRedemption", request.idempotency_key(), request_bytes, id);
        ticket = Stage(txn);
      }
    }
    if (!refusal.ok()) {
      claimed_.erase(id);
      claims_cv_.notify_all();
      return refusal;
    }
  }
  if (ticket != 0) Finish(ticket);
  auto result = DriveRedemption(id);
  Unclaim(id);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Vouchers.

StatusOr<v1::ValidateVoucherResponse> RedemptionCore::ValidateVoucher(
    const v1::ValidateVoucherRequest& request) {
  auto code = NormalizeVoucherCode(request.code());
  if (!code.ok()) return code.status();
  if (Status s = CheckId("store_id", request.store_id()); !s.ok()) return s;
  std::lock_guard lock(mu_);
  auto voucher = LoadVoucher(*code);
  if (!voucher.ok()) return voucher.status();
  v1::ValidateVoucherResponse response;
  *response.mutable_voucher() = WithDisplayStatus(*voucher);
  auto it = rewards_.find(voucher->reward_id());
  if (it != rewards_.end()) *response.mutable_reward() = it->second;
  int64_t now = clock_.NowMs();
  std::string reason;
  switch (response.voucher().status()) {
    case v1::VOUCHER_STATUS_USED:
      reason = "voucher already used";
      break;
    case v1::VOUCHER_STATUS_CANCELLED:
      reason = "voucher cancelled";
      break;
    case v1::VOUCHER_STATUS_EXPIRED:
      reason = "voucher expired";
      break;
    default:
      break;
  }
  if (reason.empty() && now < voucher->valid_from_ms()) reason = "voucher not valid yet";
  const auto& stores = response.reward().store_ids();
  if (reason.empty() && !stores.empty() &&
      std::find(stores.begin(), stores.end(), request.store_id()) == stores.end()) {
    reason = "voucher not valid at store " + request.store_id();
  }
  response.set_usable(reason.empty());
  response.set_reason(reason);
  return response;
}

StatusOr<Voucher> RedemptionCore::UseVoucher(const v1::UseVoucherRequest& request) {
  auto code = NormalizeVoucherCode(request.code());
  if (!code.ok()) return code.status();
  if (Status s = CheckId("store_id", request.store_id()); !s.ok()) return s;
  // The normalized code is what is remembered, so "abcd-..." and "ABCD..." are one request.
  v1::UseVoucherRequest canonical = request;
  canonical.set_code(*code);
  v1::RewardKind kind = v1::REWARD_KIND_UNSPECIFIED;
  auto result = Idempotent<Voucher>(
      "UseVoucher", canonical, request.idempotency_key(), [&](Txn& txn) -> StatusOr<Voucher> {
        auto loaded = LoadVoucher(*code);
        if (!loaded.ok()) return loaded.status();
        Voucher v = WithDisplayStatus(*loaded);
        int64_t now = clock_.NowMs();
        switch (v.status()) {
          case v1::VOUCHER_STATUS_USED:
            return FailedPrecondition("code: voucher already used at " + v.used_store_id());
          case v1::VOUCHER_STATUS_CANCELLED:
            return FailedPrecondition("code: voucher cancelled");
          case v1::VOUCHER_STATUS_EXPIRED:
            return FailedPrecondition("code: voucher expired");
          default:
            break;
        }
        if (now < v.valid_from_ms()) return FailedPrecondition("code: voucher not valid yet");
        auto reward = rewards_.find(v.reward_id());
        if (reward != rewards_.end() && !reward->second.store_ids().empty()) {
          const auto& stores = reward->second.store_ids();
          if (std::find(stores.begin(), stores.end(), request.store_id()) == stores.end()) {
            return FailedPrecondition("store_id: voucher not valid at store " + request.store_id());
          }
        }
        v.set_status(v1::VOUCHER_STATUS_USED);
        v.set_used_at_ms(now);
        v.set_used_store_id(request.store_id());
        PutVoucher(txn, v);
        if (Redemption* r = FindRedemption(v.redemption_id())) {
          for (auto& rv : *r->mutable_vouchers()) {
            if (rv.code() == v.code()) rv = v;
          }
          PutRedemption(txn, *r);
          kind = r->reward_kind();
        }
        v1::LoyaltyEvent event;
        auto* used = event.mutable_voucher_used();
        used->set_voucher_code(v.code());
        used->set_redemption_id(v.redemption_id());
        used->set_reward_id(v.reward_id());
        used->set_store_id(request.store_id());
        AddEvent(txn, v.member_id(), std::move(event));
        return v;
      });
  if (result.ok() && kind != v1::REWARD_KIND_UNSPECIFIED) observer_->VoucherUsed();
  return result;
}

// ---------------------------------------------------------------------------------------------
// Checkout with points.

StatusOr<v1::CheckoutQuote> RedemptionCore::QuoteCheckout(const v1::QuoteCheckoutRequest& request) {
  if (Status s = CheckId("member_id", request.member_id()); !s.ok()) return s;
  if (request.basket_amount_minor() <= 0 || request.basket_amount_minor() > kMaxAmountMinor) {
    return InvalidArgument("basket_amount_minor: must be positive");
  }
  auto balance = accrual_.GetBalance(request.member_id());
  if (!balance.ok()) return balance.status();
  v1::CheckoutQuote quote;
  quote.set_member_id(request.member_id());
  quote.set_basket_amount_minor(request.basket_amount_minor());
  quote.set_min_points(config_.checkout_min_points);
  quote.set_point_value_minor(config_.point_value_minor);
  quote.set_available(balance->balance().available());
  // Rounded down: points never pay more than the allowed share of the basket.
  int64_t by_basket = MulDiv(request.basket_amount_minor(), config_.checkout_max_share_bp,
                             10000 * config_.point_value_minor);
  int64_t max_points = std::min(by_basket, balance->balance().available());
  if (max_points < config_.checkout_min_points) {
    quote.set_reason(by_basket < config_.checkout_min_points
                         ? "basket_amount_minor: too small a basket for the minimum of " +
                               std::to_string(config_.checkout_min_points) + " points"
                         : "member_id: fewer than the minimum of " +
                               std::to_string(config_.checkout_min_points) + " points available");
    max_points = 0;
  }
  quote.set_max_points(max_points);
  quote.set_max_discount_minor(max_points * config_.point_value_minor);
  return quote;
}

Checkout* RedemptionCore::FindCheckout(const std::string& checkout_id, CheckoutRecord** record) {
  auto it = checkouts_.find(checkout_id);
  if (it == checkouts_.end()) {
    std::string value;
    if (checkout_id.empty() || !store_.Get(kCheckoutsCf, checkout_id, &value)) return nullptr;
    it = checkouts_.emplace(checkout_id, CheckoutRecord()).first;
    it->second.ParseFromString(value);
  }
  if (record) *record = &it->second;
  return it->second.mutable_checkout();
}

void RedemptionCore::PutCheckout(Txn& txn, const Checkout& checkout) {
  CheckoutRecord* record = nullptr;
  if (FindCheckout(checkout.checkout_id(), &record) == nullptr) {
    record = &checkouts_[checkout.checkout_id()];
  }
  *record->mutable_checkout() = checkout;
  txn.Put(kCheckoutsCf, checkout.checkout_id(), record->SerializeAsString(), true);
}

StatusOr<Checkout> RedemptionCore::StartCheckout(const v1::StartCheckoutRequest& request) {
  if (Status s = CheckId("member_id", request.member_id()); !s.ok()) return s;
  if (request.basket_amount_minor() <= 0 || request.basket_amount_minor() > kMaxAmountMinor) {
    return InvalidArgument("basket_amount_minor: must be positive");
  }
  int64_t by_basket = MulDiv(request.basket_amount_minor(), config_.checkout_max_share_bp,
                             10000 * config_.point_value_minor);
  if (request.points() <= 0) return InvalidArgument("points: must be positive");
  if (request.points() > by_basket) {
    return InvalidArgument("points: at most " + std::to_string(by_basket) + " for this basket");
  }
  if (request.points() < config_.checkout_min_points) {
    return InvalidArgument("points: at least " + std::to_string(config_.checkout_min_points));
  }
  int64_t ttl =
      request.ttl_seconds() == 0 ? config_.checkout_default_ttl_seconds : request.ttl_seconds();
  if (ttl < 0 || ttl > config_.checkout_max_ttl_seconds) {
    return InvalidArgument("ttl_seconds: must be in 0.." +
                           std::to_string(config_.checkout_max_ttl_seconds));
  }
  if (request.reference().size() > kMaxIdLength) {
    return InvalidArgument("reference: longer than 128 characters");
  }
  if (Status s = CheckIdempotencyKey(request.idempotency_key()); !s.ok()) return s;
  std::string request_bytes = request.SerializeAsString();
  std::string id;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    TrimFinished();
    auto existing = SagaForKey("StartCheckout", request.idempotency_key(), request_bytes);
    if (!existing.ok()) return existing.status();
    id = *existing;
    if (id.empty()) {
      Txn txn;
      Checkout c;
      c.set_checkout_id(NewId("co", clock_.NowMs()));
      c.set_member_id(request.member_id());
      c.set_basket_amount_minor(request.basket_amount_minor());
      c.set_points_held(request.points());
      c.set_state(v1::CHECKOUT_STATE_OPENING);
      c.set_reference(request.reference());
      c.set_created_at_ms(clock_.NowMs());
      id = c.checkout_id();
      checkouts_[id].set_ttl_seconds(ttl);
      PutCheckout(txn, c);
      txn.Put(kPendingCf, id, "");
      pending_.insert(id);
      RememberSagaKey(txn, "StartCheckout", request.idempotency_key(), request_bytes, id);
      claimed_.insert(id);
      ticket = Stage(txn);
    }
  }
  if (ticket != 0) {
    Finish(ticket);
  } else {
    Claim(id);
  }
  auto result = DriveCheckout(id);
  Unclaim(id);
  return result;
}

StatusOr<Checkout> RedemptionCore::DriveCheckout(const std::string& id) {
  for (;;) {
    Checkout c;
    CheckoutRecord record;
    {
      std::lock_guard lock(mu_);
      CheckoutRecord* found = nullptr;
      if (FindCheckout(id, &found) == nullptr) {
        return NotFound("checkout_id: checkout '" + id + "' not found");
      }
      record = *found;
      c = record.checkout();
    }
    Checkout next = c;
    int32_t failure_code = 0;
    std::string outcome;
    switch (c.state()) {
      case v1::CHECKOUT_STATE_OPENING: {
        v1::HoldPointsRequest hold_request;
        hold_request.set_member_id(c.member_id());
        hold_request.set_points(c.points_held());
        hold_request.set_ttl_seconds(record.ttl_seconds());
        hold_request.set_reference("checkout " + c.reference());
        hold_request.set_idempotency_key("redemption:" + id + ":hold");
        auto hold = CallAccrual<v1::Hold>("checkout_hold",
                                          [&] { return accrual_.HoldPoints(hold_request); });
        if (!hold.ok() && ShouldRetryAccrualCall(hold.status())) {
          return Status(Code::kUnavailable, "accrual: " + hold.status().message());
        }
        if (hold.ok()) {
          next.set_state(v1::CHECKOUT_STATE_OPEN);
          next.set_hold_id(hold->hold_id());
          next.set_expires_at_ms(hold->expires_at_ms());
        } else {
          next.set_state(v1::CHECKOUT_STATE_FAILED);
          next.set_failure_reason(hold.status().message());
          failure_code = static_cast<int32_t>(hold.status().code());
          outcome = "failed";
        }
        break;
      }
      case v1::CHECKOUT_STATE_COMPLETING: {
        v1::CaptureHoldRequest capture;
        capture.set_hold_id(c.hold_id());
        capture.set_points(record.finish_points());
        capture.set_idempotency_key("redemption:" + id + ":capture");
        auto captured = CallAccrual<v1::Hold>("checkout_capture",
                                              [&] { return accrual_.CaptureHold(capture); });
        if (!captured.ok() && ShouldRetryAccrualCall(captured.status())) {
          return Status(Code::kUnavailable, "accrual: " + captured.status().message());
        }
        if (captured.ok()) {
          next.set_state(v1::CHECKOUT_STATE_COMPLETED);
          next.set_points_captured(captured->captured());
          next.set_discount_minor(captured->captured() * config_.point_value_minor);
          outcome = "completed";
        } else {
          next.set_state(v1::CHECKOUT_STATE_EXPIRED);
          next.set_failure_reason(captured.status().message());
          outcome = "expired";
        }
        break;
      }
      case v1::CHECKOUT_STATE_CANCELLING: {
        v1::VoidHoldRequest void_request;
        void_request.set_hold_id(c.hold_id());
        void_request.set_idempotency_key("redemption:" + id + ":void");
        auto voided =
            CallAccrual<v1::Hold>("checkout_void", [&] { return accrual_.VoidHold(void_request); });
        if (!voided.ok() && ShouldRetryAccrualCall(voided.status())) {
          return Status(Code::kUnavailable, "accrual: " + voided.status().message());
        }
        // Refused: the hold had expired already, which released the points just the same.
        next.set_state(v1::CHECKOUT_STATE_CANCELLED);
        outcome = "cancelled";
        break;
      }
      case v1::CHECKOUT_STATE_FAILED:
        return Status(static_cast<Code>(record.failure_code()), c.failure_reason());
      default:
        return c;
    }
    uint64_t ticket;
    {
      std::lock_guard lock(mu_);
      Txn txn;
      if (failure_code != 0) checkouts_[id].set_failure_code(failure_code);
      PutCheckout(txn, next);
      open_checkouts_.erase({c.expires_at_ms(), id});
      if (next.state() == v1::CHECKOUT_STATE_OPEN) {
        open_checkouts_.emplace(next.expires_at_ms(), id);
        std::string expires;
        keys::AppendI64(expires, next.expires_at_ms());
        txn.Put(kOpenCheckoutsCf, id, expires);
      } else {
        txn.Erase(kOpenCheckoutsCf, id);
      }
      txn.Erase(kPendingCf, id);
      pending_.erase(id);
      ticket = Stage(txn);
    }
    Finish(ticket);
    if (!outcome.empty()) observer_->CheckoutFinished(outcome, next.points_captured());
    if (next.state() == v1::CHECKOUT_STATE_EXPIRED) {
      return Status(Code::kFailedPrecondition, "checkout_id: " + next.failure_reason());
    }
  }
}

StatusOr<Checkout> RedemptionCore::CompleteCheckout(const v1::CompleteCheckoutRequest& request) {
  if (Status s = CheckId("checkout_id", request.checkout_id()); !s.ok()) return s;
  if (request.points() < 0) return InvalidArgument("points: must not be negative");
  if (Status s = CheckIdempotencyKey(request.idempotency_key()); !s.ok()) return s;
  const std::string& key = request.idempotency_key();
  return BeginCheckoutStep(
      request.checkout_id(), key, request.points(), v1::CHECKOUT_STATE_COMPLETING,
      [&](const Checkout& c, const CheckoutRecord& record) -> Status {
        if (!record.finish_key().empty()) {
          // Already being finished: the same call is a retry, another one a conflict.
          bool same = record.finish_key() == key && record.finish_points() == request.points() &&
                      (c.state() == v1::CHECKOUT_STATE_COMPLETING ||
                       c.state() == v1::CHECKOUT_STATE_COMPLETED ||
                       c.state() == v1::CHECKOUT_STATE_EXPIRED);
          if (same) return Status::Ok();
          return record.finish_key() == key
                     ? AlreadyExists("idempotency_key: '" + key +
                                     "' was already used with other arguments")
                     : FailedPrecondition("checkout_id: checkout is " +
                                          v1::CheckoutState_Name(c.state()));
        }
        if (c.state() != v1::CHECKOUT_STATE_OPEN) {
          return FailedPrecondition("checkout_id: checkout is " +
                                    v1::CheckoutState_Name(c.state()));
        }
        if (request.points() > c.points_held()) {
          return InvalidArgument("points: " + std::to_string(request.points()) + " exceeds the " +
                                 std::to_string(c.points_held()) + " held");
        }
        return Status::Ok();
      });
}

StatusOr<Checkout> RedemptionCore::CancelCheckout(const v1::CancelCheckoutRequest& request) {
  if (Status s = CheckId("checkout_id", request.checkout_id()); !s.ok()) return s;
  if (Status s = CheckIdempotencyKey(request.idempotency_key()); !s.ok()) return s;
  const std::string& key = request.idempotency_key();
  return BeginCheckoutStep(
      request.checkout_id(), key, 0, v1::CHECKOUT_STATE_CANCELLING,
      [&](const Checkout& c, const CheckoutRecord& record) -> Status {
        if (!record.finish_key().empty()) {
          // Already being finished: only the same cancellation is a retry.
          if (record.finish_key() == key && (c.state() == v1::CHECKOUT_STATE_CANCELLING ||
                                             c.state() == v1::CHECKOUT_STATE_CANCELLED)) {
            return Status::Ok();
          }
        } else if (c.state() == v1::CHECKOUT_STATE_OPEN) {
          return Status::Ok();
        }
        return FailedPrecondition("checkout_id: checkout is " + v1::CheckoutState_Name(c.state()));
      });
}

StatusOr<Checkout> RedemptionCore::BeginCheckoutStep(const std::string& id, const std::string& key,
                                                     int64_t points, v1::CheckoutState next_state,
                                                     const CheckoutJudge& judge) {
  Claim(id);
  uint64_t ticket = 0;
  Status refusal;
  {
    std::lock_guard lock(mu_);
    CheckoutRecord* record = nullptr;
    Checkout* c = FindCheckout(id, &record);
    if (c == nullptr) {
      refusal = NotFound("checkout_id: checkout '" + id + "' not found");
    } else {
      refusal = judge(*c, *record);
      if (refusal.ok() && record->finish_key().empty()) {  // not a retry: start the step
        Txn txn;
        record->set_finish_key(key);
        record->set_finish_points(points);
        Checkout next = *c;
        next.set_state(next_state);
        PutCheckout(txn, next);
        txn.Put(kPendingCf, id, "");
        pending_.insert(id);
        ticket = Stage(txn);
      }
    }
  }
  if (!refusal.ok()) {
    Unclaim(id);
    return refusal;
  }
  if (ticket != 0) Finish(ticket);
  auto result = DriveCheckout(id);
  Unclaim(id);
  return result;
}

StatusOr<Checkout> RedemptionCore::GetCheckout(const std::string& checkout_id) {
  if (Status s = CheckId("checkout_id", checkout_id); !s.ok()) return s;
  std::lock_guard lock(mu_);
  Checkout* c = FindCheckout(checkout_id);
  if (c == nullptr) return NotFound("checkout_id: checkout '" + checkout_id + "' not found");
  Checkout out = *c;
  // Abandoned: accrual's expiry released the hold even if the scheduler has not run yet.
  if (out.state() == v1::CHECKOUT_STATE_OPEN && clock_.NowMs() >= out.expires_at_ms()) {
    out.set_state(v1::CHECKOUT_STATE_EXPIRED);
  }
  return out;
}

int RedemptionCore::ExpireCheckouts() {
  int expired = 0;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    int64_t now = clock_.NowMs();
    Txn txn;
    while (!open_checkouts_.empty() && open_checkouts_.begin()->first <= now) {
      std::string id = open_checkouts_.begin()->second;
      open_checkouts_.erase(open_checkouts_.begin());
      txn.Erase(kOpenCheckoutsCf, id);
      // One being completed or cancelled right now is left to that call.
      if (claimed_.count(id)) continue;
      Checkout* c = FindCheckout(id);
      if (c == nullptr || c->state() != v1::CHECKOUT_STATE_OPEN) continue;
      Checkout next = *c;
      next.set_state(v1::CHECKOUT_STATE_EXPIRED);
      next.set_failure_reason("hold expired: the checkout was abandoned");
      PutCheckout(txn, next);
      ++expired;
    }
    if (txn.empty()) return 0;
    ticket = Stage(txn);
  }
  Finish(ticket);
  for (int i = 0; i < expired; ++i) observer_->CheckoutFinished("expired", 0);
  return expired;
}

int64_t RedemptionCore::OpenCheckouts() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(open_checkouts_.size());
}

int64_t RedemptionCore::PendingSagas() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(pending_.size());
}

int RedemptionCore::ResumePending() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    ids.assign(pending_.begin(), pending_.end());
  }
  for (const auto& id : ids) {
    if (!TryClaim(id)) continue;  // someone is driving it right now
    observer_->SagaStepRetried("resume");
    if (IsRedemptionId(id)) {
      (void)DriveRedemption(id);
    } else {
      (void)DriveCheckout(id);
    }
    Unclaim(id);
  }
  return static_cast<int>(PendingSagas());
}

// ---------------------------------------------------------------------------------------------
// Prize draws.

StatusOr<v1::PrizeDraw> RedemptionCore::RunPrizeDraw(const v1::RunPrizeDrawRequest& request) {
  if (!request.draw_id().empty()) {
    if (Status s = CheckId("draw_id", request.draw_id()); !s.ok()) return s;
  }
  if (Status s = CheckId("reward_id", request.reward_id()); !s.ok()) return s;
  if (request.entrants().empty()) return InvalidArgument("entrants: required");
  if (static_cast<size_t>(request.entrants_size()) > kMaxEntrants) {
    return InvalidArgument("entrants: at most 1000000");
  }
  for (const auto& e : request.entrants()) {
    if (!ValidId(e)) return InvalidArgument("entrants: '" + e + "' is not a valid member id");
  }
  if (request.seed().size() > 256) return InvalidArgument("seed: longer than 256 characters");
  if (request.description().size() > kMaxTextLength) {
    return InvalidArgument("description: longer than 1000 characters");
  }
  std::vector<std::string> entrants = CanonicalEntrants(
      std::vector<std::string>(request.entrants().begin(), request.entrants().end()));
  if (request.winners() <= 0 || static_cast<size_t>(request.winners()) > entrants.size()) {
    return InvalidArgument("winners: must be in 1.." + std::to_string(entrants.size()) +
                           " (distinct entrants)");
  }
  // The draw itself is computed outside the lock: it is pure.
  std::string seed = request.seed();
  if (seed.empty()) {
    std::random_device rd;
    seed = Sha256Hex(std::to_string(rd()) + ":" + std::to_string(rd()) + ":" +
                     std::to_string(rd()) + ":" + std::to_string(rd()));
  }
  std::string entrants_hash = EntrantsHash(entrants);
  std::vector<std::string> winners =
      DrawWinners(seed, entrants, static_cast<size_t>(request.winners()));
  std::vector<Voucher> issued;
  v1::RewardKind kind = v1::REWARD_KIND_UNSPECIFIED;
  auto result = Idempotent<v1::PrizeDraw>(
      "RunPrizeDraw", request, request.idempotency_key(), [&](Txn& txn) -> StatusOr<v1::PrizeDraw> {
        auto it = rewards_.find(request.reward_id());
        if (it == rewards_.end()) {
          return NotFound("reward_id: reward '" + request.reward_id() + "' not found");
        }
        Reward& reward = it->second;
        int64_t count = static_cast<int64_t>(winners.size());
        if (!reward.unlimited_stock() && reward.stock_used() + count > reward.stock_total()) {
          return FailedPrecondition("winners: only " +
                                    std::to_string(reward.stock_total() - reward.stock_used()) +
                                    " units of the reward left in stock");
        }
        int64_t now = clock_.NowMs();
        v1::PrizeDraw draw;
        draw.set_draw_id(request.draw_id().empty() ? NewId("d", now) : request.draw_id());
        std::string ignored;
        if (store_.Get(kDrawsCf, draw.draw_id(), &ignored)) {
          return AlreadyExists("draw_id: draw '" + draw.draw_id() + "' already exists");
        }
        draw.set_reward_id(reward.reward_id());
        draw.set_seed(seed);
        draw.set_entrants_count(static_cast<int64_t>(entrants.size()));
        draw.set_entrants_hash(entrants_hash);
        draw.set_drawn_at_ms(now);
        draw.set_description(request.description());
        reward.set_stock_used(reward.stock_used() + count);
        txn.dirty_rewards.insert(reward.reward_id());
        kind = reward.kind();
        for (const auto& member_id : winners) {
          draw.add_winners(member_id);
          // A won reward is a redemption that skipped the points: completed at once.
          Redemption r;
          r.set_redemption_id(NewId("r", now));
          r.set_member_id(member_id);
          r.set_reward_id(reward.reward_id());
          r.set_reward_kind(reward.kind());
          r.set_reward_name(reward.name());
          r.set_quantity(1);
          r.set_points(0);
          r.set_state(v1::REDEMPTION_STATE_COMPLETED);
          r.set_draw_id(draw.draw_id());
          r.set_created_at_ms(now);
          r.set_updated_at_ms(now);
          for (auto& v : IssueVouchers(txn, r, reward)) {
            issued.push_back(v);
            *r.add_vouchers() = std::move(v);
          }
          PutRedemption(txn, r);
          txn.Put(kMemberRedemptionsCf, MemberRedemptionKey(member_id, r.redemption_id()), "");
          draw.add_redemption_ids(r.redemption_id());
          v1::LoyaltyEvent won;
          won.mutable_prize_draw_won()->set_draw_id(draw.draw_id());
          won.mutable_prize_draw_won()->set_reward_id(reward.reward_id());
          won.mutable_prize_draw_won()->set_redemption_id(r.redemption_id());
          AddEvent(txn, member_id, std::move(won));
          v1::LoyaltyEvent redeemed;
          auto* rr = redeemed.mutable_reward_redeemed();
          rr->set_redemption_id(r.redemption_id());
          rr->set_reward_id(reward.reward_id());
          rr->set_reward_name(reward.name());
          rr->set_reward_kind(KindName(reward.kind()));
          rr->set_quantity(1);
          rr->set_points(0);
          for (const auto& v : r.vouchers()) {
            rr->add_voucher_codes(v.code());
            rr->set_valid_until_ms(v.valid_until_ms());
          }
          AddEvent(txn, member_id, std::move(redeemed));
        }
        txn.Put(kDrawsCf, draw.draw_id(), draw.SerializeAsString(), true);
        return draw;
      });
  if (result.ok() && kind != v1::REWARD_KIND_UNSPECIFIED) {
    for (int i = 0; i < result->winners_size(); ++i) observer_->RedemptionFinished(kind, "won", 0);
    observer_->VouchersIssued(static_cast<int64_t>(issued.size()));
  }
  return result;
}

StatusOr<v1::PrizeDraw> RedemptionCore::GetPrizeDraw(const std::string& draw_id) {
  if (Status s = CheckId("draw_id", draw_id); !s.ok()) return s;
  std::string value;
  if (!store_.Get(kDrawsCf, draw_id, &value)) {
    return NotFound("draw_id: draw '" + draw_id + "' not found");
  }
  v1::PrizeDraw draw;
  draw.ParseFromString(value);
  return draw;
}

}  // namespace loyalty::redemption
