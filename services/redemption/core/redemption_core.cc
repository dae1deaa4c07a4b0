#include "services/redemption/core/redemption_core.h"

#include <algorithm>
#include <random>

#include "common/audit_log.h"
#include "common/field_limits.h"
#include "common/idempotent.h"
#include "common/ids.h"
#include "services/redemption/core/prize_draw.h"
#include "services/redemption/core/types.h"
#include "services/redemption/core/voucher_code.h"

namespace loyalty::redemption {

using v1::Checkout;
using v1::Redemption;
using v1::Reward;
using v1::Voucher;
using v1::redemptioninternal::IdempotencyEntry;

std::vector<std::string> RedemptionColumnFamilies() {
  return {cf::kRewards,       cf::kMembers, cf::kRedemptions, cf::kMemberRedemptions,
          cf::kVouchers,      cf::kPending, cf::kIdempotency, cf::kCheckouts,
          cf::kOpenCheckouts, cf::kDraws,   kOutboxCf,        kAuditCf};
}

RedemptionCore::RedemptionCore(Store& store, Outbox& outbox, const Clock& clock,
                               AccrualClient& accrual, RedemptionConfig config,
                               RedemptionObserver* observer)
    : store_(store),
      outbox_(outbox),
      clock_(clock),
      accrual_(accrual),
      config_(std::move(config)),
      observer_(observer ? observer : &null_observer_),
      members_(store_, clock_),
      catalog_(store_, clock_, members_, config_.currency),
      vouchers_(store_, clock_, config_.default_voucher_validity_days),
      claims_(mu_),
      sagas_(store_, clock_, static_cast<size_t>(config_.cached_finished)) {}

// ---------------------------------------------------------------------------------------------
// Plumbing: staging and idempotency.

uint64_t RedemptionCore::Stage(Txn& txn) {
  return store_.Stage([&](StagedWrite& write) {
    members_.WriteDirty(txn, write);
    catalog_.WriteDirty(txn, write);
    txn.WriteTo(write, outbox_);
  });
}

void RedemptionCore::Finish(uint64_t ticket) {
  store_.WaitDurable(ticket);
  observer_->Committed();
}

template <typename Response, typename Request>
StatusOr<Response> RedemptionCore::Idempotent(
    const char* method, const Principal& caller, const Request& request, const std::string& key,
    const std::function<StatusOr<Response>(Txn&)>& apply) {
  // The administrative calls leave an audit record in the same write (common/audit_log.h).
  auto apply_and_audit = AuditedApply<Response, Txn>(
      IsAudited(method, {"CreateReward", "UpdateReward", "RunPrizeDraw"}), "redemption",
      "/loyalty.v1.RedemptionService/", method, caller, request, clock_.NowMs(), apply);
  auto outcome = RunIdempotent<IdempotencyEntry, Response, Txn>(
      store_, mu_, clock_.NowMs(), method, caller, request, key, apply_and_audit,
      [this](Txn& txn) { return Stage(txn); });
  if (outcome.ticket != 0) Finish(outcome.ticket);
  return std::move(outcome.result);
}

size_t RedemptionCore::CachedRedemptions() const {
  std::lock_guard lock(mu_);
  return sagas_.cached_redemptions();
}

size_t RedemptionCore::CachedCheckouts() const {
  std::lock_guard lock(mu_);
  return sagas_.cached_checkouts();
}

int64_t RedemptionCore::OpenCheckouts() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(sagas_.open_checkouts());
}

int64_t RedemptionCore::PendingSagas() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(sagas_.pending());
}

int RedemptionCore::ResumePending() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    ids = sagas_.PendingIds();
  }
  for (const auto& id : ids) {
    if (!claims_.TryClaim(id)) continue;  // someone is driving it right now
    observer_->SagaStepRetried("resume");
    if (id.rfind("r_", 0) == 0) {  // a redemption; checkouts are "co_..."
      (void)DriveRedemption(id);
    } else {
      (void)DriveCheckout(id);
    }
    claims_.Unclaim(id);
  }
  return static_cast<int>(PendingSagas());
}

// ---------------------------------------------------------------------------------------------
// Catalog.

StatusOr<Reward> RedemptionCore::CreateReward(const Principal& caller,
                                              const v1::CreateRewardRequest& request) {
  return Idempotent<Reward>("CreateReward", caller, request, request.idempotency_key(),
                            [&](Txn& txn) { return catalog_.Create(txn, request); });
}

StatusOr<Reward> RedemptionCore::UpdateReward(const Principal& caller,
                                              const v1::UpdateRewardRequest& request) {
  return Idempotent<Reward>("UpdateReward", caller, request, request.idempotency_key(),
                            [&](Txn& txn) { return catalog_.Update(txn, request); });
}

StatusOr<Reward> RedemptionCore::GetReward(const std::string& reward_id) {
  if (Status s = CheckId("reward_id", reward_id); !s.ok()) return s;
  std::lock_guard lock(mu_);
  return catalog_.Get(reward_id);
}

StatusOr<v1::ListRewardsResponse> RedemptionCore::ListRewards(
    const v1::ListRewardsRequest& request) {
  if (request.member_id().empty()) {
    std::lock_guard lock(mu_);
    return catalog_.Offers(request, nullptr);
  }
  if (Status s = CheckId("member_id", request.member_id()); !s.ok()) return s;
  // Tier, segments and balance are accrual's, read outside the lock.
  auto member = accrual_.GetMember(request.member_id());
  if (!member.ok()) return member.status();
  std::lock_guard lock(mu_);
  v1::ListRewardsResponse response = catalog_.Offers(request, &*member);
  response.set_tier(member->tier());
  *response.mutable_balance() = member->balance();
  return response;
}

// ---------------------------------------------------------------------------------------------
// Vouchers.

StatusOr<v1::ValidateVoucherResponse> RedemptionCore::ValidateVoucher(
    const v1::ValidateVoucherRequest& request) {
  auto code = NormalizeVoucherCode(request.code());
  if (!code.ok()) return code.status();
  if (Status s = CheckId("store_id", request.store_id()); !s.ok()) return s;
  std::lock_guard lock(mu_);
  auto voucher = vouchers_.Load(*code);
  if (!voucher.ok()) return voucher.status();
  v1::ValidateVoucherResponse response;
  *response.mutable_voucher() = vouchers_.WithDisplayStatus(*voucher);
  if (const Reward* reward = catalog_.Find(voucher->reward_id())) {
    *response.mutable_reward() = *reward;
  }
  std::string reason =
      vouchers_.WhyNotUsable(response.voucher(), response.reward(), request.store_id());
  response.set_usable(reason.empty());
  response.set_reason(reason);
  return response;
}

StatusOr<Voucher> RedemptionCore::UseVoucher(const Principal& caller,
                                             const v1::UseVoucherRequest& request) {
  auto code = NormalizeVoucherCode(request.code());
  if (!code.ok()) return code.status();
  if (Status s = CheckId("store_id", request.store_id()); !s.ok()) return s;
  // The normalized code is what is remembered, so "abcd-..." and "ABCD..." are one request.
  v1::UseVoucherRequest canonical = request;
  canonical.set_code(*code);
  v1::RewardKind kind = v1::REWARD_KIND_UNSPECIFIED;
  auto result = Idempotent<Voucher>(
      "UseVoucher", caller, canonical, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<Voucher> {
        auto loaded = vouchers_.Load(*code);
        if (!loaded.ok()) return loaded.status();
        Voucher v = vouchers_.WithDisplayStatus(*loaded);
        Status refusal = vouchers_.CheckUse(v, catalog_.Find(v.reward_id()), request.store_id());
        if (!refusal.ok()) return refusal;
        v.set_status(v1::VOUCHER_STATUS_USED);
        v.set_used_at_ms(clock_.NowMs());
        v.set_used_store_id(request.store_id());
        vouchers_.Put(txn, v);
        if (Redemption* r = sagas_.FindRedemption(v.redemption_id())) {
          for (auto& rv : *r->mutable_vouchers()) {
            if (rv.code() == v.code()) rv = v;
          }
          sagas_.PutRedemption(txn, *r);
          kind = r->reward_kind();
        }
        v1::LoyaltyEvent event;
        auto* used = event.mutable_voucher_used();
        used->set_voucher_code(v.code());
        used->set_redemption_id(v.redemption_id());
        used->set_reward_id(v.reward_id());
        used->set_store_id(request.store_id());
        members_.Emit(txn, v.member_id(), std::move(event));
        return v;
      });
  if (result.ok() && kind != v1::REWARD_KIND_UNSPECIFIED) observer_->VoucherUsed();
  return result;
}

// ---------------------------------------------------------------------------------------------
// Prize draws.

StatusOr<v1::PrizeDraw> RedemptionCore::RunPrizeDraw(const Principal& caller,
                                                     const v1::RunPrizeDrawRequest& request) {
  if (!request.draw_id().empty()) {
    if (Status s = CheckId("draw_id", request.draw_id()); !s.ok()) return s;
  }
  if (Status s = CheckId("reward_id", request.reward_id()); !s.ok()) return s;
  if (request.entrants().empty()) return InvalidArgument("entrants: required");
  if (static_cast<size_t>(request.entrants_size()) > kMaxEntrants) {
    return InvalidArgument("entrants: at most 1000000");
  }
  for (const auto& e : request.entrants()) {
    if (!ValidId(e))
      return InvalidArgument("entrants: '" + Quote(e) + "' is not a valid member id");
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
  std::vector<std::string> winners =
      DrawWinners(seed, entrants, static_cast<size_t>(request.winners()));
  std::vector<Voucher> issued;
  v1::RewardKind kind = v1::REWARD_KIND_UNSPECIFIED;
  auto result = Idempotent<v1::PrizeDraw>(
      "RunPrizeDraw", caller, request, request.idempotency_key(),
      [&](Txn& txn) { return ApplyDraw(txn, request, seed, entrants, winners, issued, kind); });
  if (result.ok() && kind != v1::REWARD_KIND_UNSPECIFIED) {
    for (int i = 0; i < result->winners_size(); ++i) observer_->RedemptionFinished(kind, "won", 0);
    observer_->VouchersIssued(static_cast<int64_t>(issued.size()));
  }
  return result;
}

StatusOr<v1::PrizeDraw> RedemptionCore::ApplyDraw(Txn& txn, const v1::RunPrizeDrawRequest& request,
                                                  const std::string& seed,
                                                  const std::vector<std::string>& entrants,
                                                  const std::vector<std::string>& winners,
                                                  std::vector<Voucher>& issued,
                                                  v1::RewardKind& kind) {
  Reward* reward = catalog_.Find(request.reward_id());
  if (reward == nullptr) {
    return NotFound("reward_id: reward '" + Quote(request.reward_id()) + "' not found");
  }
  int64_t count = static_cast<int64_t>(winners.size());
  if (!reward->unlimited_stock() && reward->stock_used() + count > reward->stock_total()) {
    return FailedPrecondition("winners: only " +
                              std::to_string(reward->stock_total() - reward->stock_used()) +
                              " units of the reward left in stock");
  }
  int64_t now = clock_.NowMs();
  v1::PrizeDraw draw;
  draw.set_draw_id(request.draw_id().empty() ? NewId("d", now) : request.draw_id());
  std::string ignored;
  if (store_.Get(cf::kDraws, draw.draw_id(), &ignored)) {
    return AlreadyExists("draw_id: draw '" + Quote(draw.draw_id()) + "' already exists");
  }
  draw.set_reward_id(reward->reward_id());
  draw.set_seed(seed);
  draw.set_entrants_count(static_cast<int64_t>(entrants.size()));
  draw.set_entrants_hash(EntrantsHash(entrants));
  draw.set_drawn_at_ms(now);
  draw.set_description(request.description());
  catalog_.TakeStock(txn, *reward, count);
  kind = reward->kind();
  for (const auto& member_id : winners) AwardPrize(txn, draw, *reward, member_id, issued);
  txn.Put(cf::kDraws, draw.draw_id(), draw.SerializeAsString(), true);
  return draw;
}

void RedemptionCore::AwardPrize(Txn& txn, v1::PrizeDraw& draw, const Reward& reward,
                                const std::string& member_id, std::vector<Voucher>& issued) {
  int64_t now = clock_.NowMs();
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
  for (auto& v : vouchers_.Issue(txn, r, reward)) {
    issued.push_back(v);
    *r.add_vouchers() = std::move(v);
  }
  sagas_.AddRedemption(txn, r);
  draw.add_redemption_ids(r.redemption_id());
  v1::LoyaltyEvent won;
  won.mutable_prize_draw_won()->set_draw_id(draw.draw_id());
  won.mutable_prize_draw_won()->set_reward_id(reward.reward_id());
  won.mutable_prize_draw_won()->set_redemption_id(r.redemption_id());
  members_.Emit(txn, member_id, std::move(won));
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
  members_.Emit(txn, member_id, std::move(redeemed));
}

StatusOr<v1::PrizeDraw> RedemptionCore::GetPrizeDraw(const std::string& draw_id) {
  if (Status s = CheckId("draw_id", draw_id); !s.ok()) return s;
  std::string value;
  if (!store_.Get(cf::kDraws, draw_id, &value)) {
    return NotFound("draw_id: draw '" + Quote(draw_id) + "' not found");
  }
  v1::PrizeDraw draw;
  draw.ParseFromString(value);
  return draw;
}

}  // namespace loyalty::redemption
