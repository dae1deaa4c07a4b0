// The redeem saga: reserve (stock and the member's units, under the lock), hold and capture
// the points in accrual (one call; two for sagas reserved by earlier versions), then issue
// vouchers and complete; compensation voids the hold, and a cancellation gives captured
// points back. The common case runs asynchronously; the
// rest on the blocking runner.
#include <algorithm>

#include "common/field_limits.h"
#include "common/idempotent.h"
#include "common/ids.h"
#include "services/redemption/core/redemption_core.h"
#include "services/redemption/core/types.h"

namespace loyalty::redemption {
namespace {

using v1::Redemption;
using v1::Reward;

std::string HoldKey(const std::string& id) { return "redemption:" + id + ":hold"; }
std::string CaptureKey(const std::string& id) { return "redemption:" + id + ":capture"; }
std::string VoidKey(const std::string& id) { return "redemption:" + id + ":void"; }
std::string AwardKey(const std::string& id) { return "redemption:" + id + ":return"; }

// Accrual did not answer: the saga stays pending and is driven on later.
Status ContinuesLater(const Status& status, const std::string& what, const std::string& id) {
  return Status(Code::kUnavailable,
                "accrual: " + status.message() + " (" + what + " " + id + " continues later)");
}

}  // namespace

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
  return catalog_.NeedsMember(reward_id);
}

StatusOr<RedemptionCore::Reservation> RedemptionCore::Reserve(const Principal& caller,
                                                              const v1::RedeemRequest& request,
                                                              const v1::Member& member) {
  int64_t quantity = request.quantity() == 0 ? 1 : request.quantity();
  std::string request_bytes = request.SerializeAsString();
  std::lock_guard lock(mu_);
  sagas_.Trim(claims_);
  auto existing = sagas_.SagaForKey("Redeem", caller, request.idempotency_key(), request_bytes);
  if (!existing.ok()) return existing.status();
  if (!existing->empty()) return Reservation{*existing, 0};
  Reward* reward = catalog_.Find(request.reward_id());
  if (reward == nullptr) {
    return NotFound("reward_id: reward '" + Quote(request.reward_id()) + "' not found");
  }
  if (Status s = catalog_.CheckRedeemable(*reward, request.member_id(), member, quantity);
      !s.ok()) {
    return s;
  }
  if (reward->points_price() > kMaxPoints / quantity) {
    return InvalidArgument("quantity: the total price is too large");
  }
  // Reserve: the stock and the member's units are taken now, under the lock, so that two
  // concurrent redemptions of the last unit cannot both pass the check above.
  Txn txn;
  int64_t now = clock_.NowMs();
  catalog_.TakeStock(txn, *reward, quantity);
  members_.AddUnits(txn, request.member_id(), reward->reward_id(), quantity);
  Redemption r;
  r.set_redemption_id(NewId("r", now));
  r.set_member_id(request.member_id());
  r.set_reward_id(reward->reward_id());
  r.set_reward_kind(reward->kind());
  r.set_reward_name(reward->name());
  r.set_quantity(quantity);
  r.set_points(reward->points_price() * quantity);
  r.set_state(v1::REDEMPTION_STATE_RESERVED);
  r.set_created_at_ms(now);
  r.set_updated_at_ms(now);
  r.set_principal(caller.value());
  // Nothing happens between the hold and its capture: accrual does both in one call.
  r.set_capture_with_hold(true);
  const std::string& id = r.redemption_id();
  sagas_.AddRedemption(txn, r);
  sagas_.MarkPending(txn, id);
  sagas_.RememberSagaKey(txn, "Redeem", caller, request.idempotency_key(), request_bytes, id);
  claims_.TakeLocked(id);  // the caller drives the new saga
  // Durable before accrual is called: a restart must know about the hold it may find.
  return Reservation{id, Stage(txn)};
}

StatusOr<Redemption> RedemptionCore::Redeem(const Principal& caller,
                                            const v1::RedeemRequest& request) {
  if (Status s = CheckRedeemRequest(request); !s.ok()) return s;
  // Tier and segment audiences need accrual's view of the member, read before the lock; other
  // rewards spare the call (an unknown member is refused by the hold).
  v1::Member member;
  if (NeedsMember(request.reward_id())) {
    auto found = accrual_.GetMember(request.member_id());
    if (!found.ok()) return found.status();
    member = std::move(*found);
  }
  auto reserved = Reserve(caller, request, member);
  if (!reserved.ok()) return reserved.status();
  if (reserved->ticket != 0) {
    Finish(reserved->ticket);
  } else {
    claims_.Claim(reserved->id);  // a retry: wait for whoever drives it, then drive or read it
  }
  auto result = DriveRedemption(reserved->id);
  claims_.Unclaim(reserved->id);
  return result;
}

void RedemptionCore::RedeemAsync(const Principal& caller, const v1::RedeemRequest& request,
                                 RedemptionCallback done) {
  if (Status s = CheckRedeemRequest(request); !s.ok()) return done(s);
  if (NeedsMember(request.reward_id())) {
    // Accrual's view of the member first: a blocking call, on the runner.
    return run_blocking_([this, caller, request, done] {
      auto member = accrual_.GetMember(request.member_id());
      if (!member.ok()) return done(member.status());
      ReserveAndDrive(caller, request, *member, done);
    });
  }
  ReserveAndDrive(caller, request, v1::Member(), done);
}

void RedemptionCore::ReserveAndDrive(const Principal& caller, const v1::RedeemRequest& request,
                                     const v1::Member& member, const RedemptionCallback& done) {
  auto reserved = Reserve(caller, request, member);
  if (!reserved.ok()) return done(reserved.status());
  std::string id = reserved->id;
  if (reserved->ticket == 0) {
    // A retried key: once whoever drives the saga lets go, drive it on or read its outcome.
    return claims_.ClaimAsync(id, [this, id, done] { DriveBlocking(id, done); });
  }
  store_.WhenDurable(reserved->ticket, [this, id, done] {
    observer_->Committed();
    HoldAndComplete(id, done);
  });
}

void RedemptionCore::HoldAndComplete(const std::string& id, const RedemptionCallback& done) {
  accrual_.HoldPointsAsync(HoldRequest(id), [this, id, done](StatusOr<v1::Hold> hold) {
    if (!hold.ok()) {
      if (ShouldRetryAccrualCall(hold.status())) observer_->SagaStepRetried("hold");
      return DriveBlocking(id, done);
    }
    if (hold->status() == v1::HOLD_STATUS_CAPTURED) return CompleteAsync(id, *hold, done);
    accrual_.CaptureHoldAsync(MarkHeld(id, *hold), [this, id, done](StatusOr<v1::Hold> captured) {
      if (!captured.ok()) {
        if (ShouldRetryAccrualCall(captured.status())) observer_->SagaStepRetried("capture");
        return DriveBlocking(id, done);
      }
      CompleteAsync(id, *captured, done);
    });
  });
}

void RedemptionCore::CompleteAsync(const std::string& id, const v1::Hold& captured,
                                   const RedemptionCallback& done) {
  Completion completion = CompleteRedemption(id, captured);
  store_.WhenDurable(completion.ticket, [this, id, completion, done] {
    Finish(completion);
    Redemption r;
    {
      std::lock_guard lock(mu_);
      r = *sagas_.FindRedemption(id);
    }
    claims_.Unclaim(id);
    done(std::move(r));
  });
}

void RedemptionCore::DriveBlocking(const std::string& id, const RedemptionCallback& done) {
  run_blocking_([this, id, done] {
    auto result = DriveRedemption(id);
    claims_.Unclaim(id);
    done(std::move(result));
  });
}

v1::HoldPointsRequest RedemptionCore::HoldRequest(const std::string& id) {
  std::lock_guard lock(mu_);
  const Redemption& r = *sagas_.FindRedemption(id);
  v1::HoldPointsRequest request;
  request.set_member_id(r.member_id());
  request.set_points(r.points());
  request.set_ttl_seconds(config_.redeem_hold_ttl_seconds);
  request.set_reference("redemption " + id);
  request.set_idempotency_key(HoldKey(id));
  request.set_capture(r.capture_with_hold());
  return request;
}

v1::CaptureHoldRequest RedemptionCore::MarkHeld(const std::string& id, const v1::Hold& hold) {
  // Staged, not waited for: after a crash the saga re-runs the hold with the same key and
  // accrual answers with this same hold.
  std::lock_guard lock(mu_);
  Redemption* found = sagas_.FindRedemption(id);
  found->set_state(v1::REDEMPTION_STATE_HELD);
  found->set_hold_id(hold.hold_id());
  found->set_updated_at_ms(clock_.NowMs());
  Txn txn;
  sagas_.PutRedemption(txn, *found);
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
  Redemption* found = sagas_.FindRedemption(id);
  Txn txn;
  found->set_hold_id(captured.hold_id());
  found->set_points_captured(captured.captured());
  found->set_state(v1::REDEMPTION_STATE_COMPLETED);
  found->set_updated_at_ms(clock_.NowMs());
  const Reward* in_catalog = catalog_.Find(found->reward_id());
  Reward reward = in_catalog != nullptr ? *in_catalog : Reward();
  reward.set_kind(found->reward_kind());
  for (auto& v : vouchers_.Issue(txn, *found, reward)) *found->add_vouchers() = std::move(v);
  sagas_.PutRedemption(txn, *found);
  sagas_.MarkDone(txn, id);
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
  // A later step of the saga (maybe after a restart) speaks for the caller who redeemed.
  txn.principal = found->principal();
  members_.Emit(txn, found->member_id(), std::move(event));
  return {Stage(txn), found->reward_kind(), found->points_captured(), found->vouchers_size()};
}

void RedemptionCore::Finish(const Completion& completion) {
  observer_->Committed();
  observer_->RedemptionFinished(completion.kind, "completed", completion.points);
  observer_->VouchersIssued(completion.vouchers);
}

void RedemptionCore::ReleaseStock(Txn& txn, const Redemption& redemption) {
  catalog_.ReleaseStock(txn, redemption.reward_id(), redemption.quantity());
  // Prize winners never counted against the per-member limit.
  if (redemption.draw_id().empty()) {
    members_.AddUnits(txn, redemption.member_id(), redemption.reward_id(), -redemption.quantity());
  }
}

void RedemptionCore::FailRedemption(const std::string& id, const Status& why) {
  uint64_t ticket;
  Redemption r;
  {
    std::lock_guard lock(mu_);
    r = *sagas_.FindRedemption(id);
    Txn txn;
    ReleaseStock(txn, r);
    r.set_state(v1::REDEMPTION_STATE_FAILED);
    r.set_failure_code(static_cast<int32_t>(why.code()));
    r.set_failure_reason(why.message());
    r.set_updated_at_ms(clock_.NowMs());
    sagas_.PutRedemption(txn, r);
    sagas_.MarkDone(txn, id);
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
      Redemption* found = sagas_.FindRedemption(id);
      if (found == nullptr)
        return NotFound("redemption_id: redemption '" + Quote(id) + "' not found");
      r = *found;
    }
    Step answer;
    switch (r.state()) {
      case v1::REDEMPTION_STATE_RESERVED:
        answer = StepReserved(id);
        break;
      case v1::REDEMPTION_STATE_HELD:
        answer = StepHeld(r);
        break;
      case v1::REDEMPTION_STATE_COMPENSATING:
        answer = StepCompensating(r);
        break;
      case v1::REDEMPTION_STATE_CANCELLING:
        answer = StepCancelling(r);
        break;
      case v1::REDEMPTION_STATE_FAILED:
        return Status(static_cast<Code>(r.failure_code()), r.failure_reason());
      default:
        return r;  // completed or cancelled
    }
    if (answer) return std::move(*answer);
  }
}

RedemptionCore::Step RedemptionCore::StepReserved(const std::string& id) {
  v1::HoldPointsRequest hold_request = HoldRequest(id);
  auto hold = CallAccrual<v1::Hold>("hold", [&] { return accrual_.HoldPoints(hold_request); });
  if (!hold.ok()) {
    if (ShouldRetryAccrualCall(hold.status())) {
      return ContinuesLater(hold.status(), "redemption", id);
    }
    FailRedemption(id, hold.status());  // nothing was held: only the stock goes back
    return std::nullopt;
  }
  if (hold->status() == v1::HOLD_STATUS_CAPTURED) {
    Completion completion = CompleteRedemption(id, *hold);
    store_.WaitDurable(completion.ticket);
    Finish(completion);
    return std::nullopt;
  }
  MarkHeld(id, *hold);
  return std::nullopt;
}

RedemptionCore::Step RedemptionCore::StepHeld(const Redemption& r) {
  const std::string& id = r.redemption_id();
  v1::CaptureHoldRequest capture_request;
  capture_request.set_hold_id(r.hold_id());
  capture_request.set_idempotency_key(CaptureKey(id));
  auto captured =
      CallAccrual<v1::Hold>("capture", [&] { return accrual_.CaptureHold(capture_request); });
  if (!captured.ok()) {
    if (ShouldRetryAccrualCall(captured.status())) {
      return ContinuesLater(captured.status(), "redemption", id);
    }
    std::lock_guard lock(mu_);
    Redemption* found = sagas_.FindRedemption(id);
    found->set_state(v1::REDEMPTION_STATE_COMPENSATING);
    found->set_failure_code(static_cast<int32_t>(captured.status().code()));
    found->set_failure_reason(captured.status().message());
    Txn txn;
    sagas_.PutRedemption(txn, *found);
    Stage(txn);
    return std::nullopt;
  }
  Completion completion = CompleteRedemption(id, *captured);
  store_.WaitDurable(completion.ticket);
  Finish(completion);
  return std::nullopt;
}

RedemptionCore::Step RedemptionCore::StepCompensating(const Redemption& r) {
  const std::string& id = r.redemption_id();
  if (!r.hold_id().empty()) {
    v1::VoidHoldRequest void_request;
    void_request.set_hold_id(r.hold_id());
    void_request.set_idempotency_key(VoidKey(id));
    auto voided = CallAccrual<v1::Hold>("void", [&] { return accrual_.VoidHold(void_request); });
    // A refusal means the hold is already closed (expired or voided): nothing is held.
    if (!voided.ok() && ShouldRetryAccrualCall(voided.status())) {
      return ContinuesLater(voided.status(), "redemption", id);
    }
  }
  FailRedemption(id, Status(static_cast<Code>(r.failure_code()), r.failure_reason()));
  return std::nullopt;
}

RedemptionCore::Step RedemptionCore::StepCancelling(const Redemption& r) {
  const std::string& id = r.redemption_id();
  bool returned = true;
  if (r.points_captured() > 0) {
    v1::AwardPointsRequest award;
    award.set_member_id(r.member_id());
    award.set_points(r.points_captured());
    award.set_reason("redemption " + id + " cancelled");
    award.set_source("redemption");
    award.set_idempotency_key(AwardKey(id));
    auto entry = CallAccrual<v1::LedgerEntry>("award", [&] { return accrual_.AwardPoints(award); });
    if (!entry.ok() && ShouldRetryAccrualCall(entry.status())) {
      return ContinuesLater(entry.status(), "cancellation", id);
    }
    // Refused (the member was erased): nobody to give the points back to.
    returned = entry.ok();
  }
  uint64_t ticket;
  int64_t points_returned;
  {
    std::lock_guard lock(mu_);
    Redemption* found = sagas_.FindRedemption(id);
    Txn txn;
    found->set_state(v1::REDEMPTION_STATE_CANCELLED);
    found->set_points_returned(returned ? found->points_captured() : 0);
    found->set_updated_at_ms(clock_.NowMs());
    points_returned = found->points_returned();
    sagas_.PutRedemption(txn, *found);
    sagas_.MarkDone(txn, id);
    v1::LoyaltyEvent event;
    auto* cancelled = event.mutable_redemption_cancelled();
    cancelled->set_redemption_id(id);
    cancelled->set_reward_id(found->reward_id());
    cancelled->set_points_returned(points_returned);
    cancelled->set_reason(found->cancel_reason());
    txn.principal = found->cancelled_by();
    members_.Emit(txn, found->member_id(), std::move(event));
    ticket = Stage(txn);
  }
  Finish(ticket);
  observer_->RedemptionFinished(r.reward_kind(), "cancelled", points_returned);
  return std::nullopt;
}

StatusOr<Redemption> RedemptionCore::GetRedemption(const std::string& redemption_id) {
  if (Status s = CheckId("redemption_id", redemption_id); !s.ok()) return s;
  std::lock_guard lock(mu_);
  sagas_.Trim(claims_);
  Redemption* r = sagas_.FindRedemption(redemption_id);
  if (r == nullptr)
    return NotFound("redemption_id: redemption '" + Quote(redemption_id) + "' not found");
  Redemption out = *r;
  for (auto& v : *out.mutable_vouchers()) v = vouchers_.WithDisplayStatus(v);
  return out;
}

StatusOr<v1::ListRedemptionsResponse> RedemptionCore::ListRedemptions(
    const std::string& member_id) {
  if (Status s = CheckId("member_id", member_id); !s.ok()) return s;
  v1::ListRedemptionsResponse response;
  for (const auto& id : sagas_.RedemptionIdsOf(member_id)) {
    auto r = GetRedemption(id);
    if (r.ok()) *response.add_redemptions() = std::move(*r);
  }
  return response;
}

Status RedemptionCore::CheckCancellable(const Redemption* r, const std::string& id) const {
  if (r == nullptr) return NotFound("redemption_id: redemption '" + Quote(id) + "' not found");
  if (r->state() != v1::REDEMPTION_STATE_COMPLETED) {
    return FailedPrecondition("redemption_id: redemption is " +
                              v1::RedemptionState_Name(r->state()));
  }
  if (r->reward_kind() == v1::REWARD_KIND_DONATION) {
    return FailedPrecondition("redemption_id: a donation cannot be cancelled");
  }
  int64_t now = clock_.NowMs();
  for (const auto& v : r->vouchers()) {
    if (v.status() == v1::VOUCHER_STATUS_USED) {
      return FailedPrecondition("redemption_id: voucher " + v.code() + " was used");
    }
    if (v.status() != v1::VOUCHER_STATUS_ACTIVE || now >= v.valid_until_ms()) {
      return FailedPrecondition("redemption_id: voucher " + v.code() + " expired");
    }
  }
  return Status::Ok();
}

StatusOr<Redemption> RedemptionCore::CancelRedemption(const Principal& caller,
                                                      const v1::CancelRedemptionRequest& request) {
  if (Status s = CheckId("redemption_id", request.redemption_id()); !s.ok()) return s;
  if (request.reason().size() > kMaxTextLength) {
    return InvalidArgument("reason: longer than 1000 characters");
  }
  if (Status s = CheckIdempotencyKey(request.idempotency_key()); !s.ok()) return s;
  const std::string& id = request.redemption_id();
  std::string request_bytes = request.SerializeAsString();
  claims_.Claim(id);
  uint64_t ticket = 0;
  Status refusal;
  {
    std::lock_guard lock(mu_);
    auto existing =
        sagas_.SagaForKey("CancelRedemption", caller, request.idempotency_key(), request_bytes);
    Redemption* r = sagas_.FindRedemption(id);
    if (!existing.ok()) {
      refusal = existing.status();
    } else if (existing->empty()) {
      refusal = CheckCancellable(r, id);
      if (refusal.ok()) {
        // The vouchers stop working and the stock returns in the same write that starts
        // giving the points back.
        Txn txn;
        for (auto& v : *r->mutable_vouchers()) {
          v.set_status(v1::VOUCHER_STATUS_CANCELLED);
          vouchers_.Put(txn, v);
        }
        ReleaseStock(txn, *r);
        r->set_state(v1::REDEMPTION_STATE_CANCELLING);
        r->set_cancel_reason(request.reason());
        r->set_cancelled_by(caller.value());
        r->set_updated_at_ms(clock_.NowMs());
        sagas_.PutRedemption(txn, *r);
        sagas_.MarkPending(txn, id);
        sagas_.RememberSagaKey(txn, "CancelRedemption", caller, request.idempotency_key(),
                               request_bytes, id);
        ticket = Stage(txn);
      }
    }
  }
  if (!refusal.ok()) {
    claims_.Unclaim(id);  // also hands the saga to a waiting retry of its Redeem
    return refusal;
  }
  if (ticket != 0) Finish(ticket);
  auto result = DriveRedemption(id);
  claims_.Unclaim(id);
  return result;
}

}  // namespace loyalty::redemption
