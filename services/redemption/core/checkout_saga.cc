// Paying with points at checkout: a quote, then a hold (OPENING -> OPEN), then a capture of
// the points used (COMPLETING -> COMPLETED) or a void (CANCELLING -> CANCELLED); an
// abandoned checkout's hold expires in accrual and the checkout reads EXPIRED.
#include <algorithm>

#include "common/field_limits.h"
#include "common/idempotent.h"
#include "common/ids.h"
#include "services/redemption/core/redemption_core.h"
#include "services/redemption/core/types.h"

namespace loyalty::redemption {
namespace {

using v1::Checkout;
using v1::redemptioninternal::CheckoutRecord;

// The caller whose key a checkout's finish_key is (records from before principals: anonymous).
std::string FinishPrincipal(const CheckoutRecord& record) {
  return record.finish_principal().empty() ? kAnonymousPrincipal : record.finish_principal();
}

// floor(a * b / c) without overflow; a, b, c >= 0, c > 0.
int64_t MulDiv(int64_t a, int64_t b, int64_t c) {
  return static_cast<int64_t>(static_cast<__int128>(a) * b / c);
}

}  // namespace

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

Status RedemptionCore::CheckStartCheckout(const v1::StartCheckoutRequest& request,
                                          int64_t ttl) const {
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
  if (ttl < 0 || ttl > config_.checkout_max_ttl_seconds) {
    return InvalidArgument("ttl_seconds: must be in 0.." +
                           std::to_string(config_.checkout_max_ttl_seconds));
  }
  if (request.reference().size() > kMaxIdLength) {
    return InvalidArgument("reference: longer than 128 characters");
  }
  return CheckIdempotencyKey(request.idempotency_key());
}

StatusOr<Checkout> RedemptionCore::StartCheckout(const Principal& caller,
                                                 const v1::StartCheckoutRequest& request) {
  int64_t ttl =
      request.ttl_seconds() == 0 ? config_.checkout_default_ttl_seconds : request.ttl_seconds();
  if (Status s = CheckStartCheckout(request, ttl); !s.ok()) return s;
  std::string request_bytes = request.SerializeAsString();
  std::string id;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    sagas_.Trim(claims_);
    auto existing =
        sagas_.SagaForKey("StartCheckout", caller, request.idempotency_key(), request_bytes);
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
      c.set_principal(caller.value());
      id = c.checkout_id();
      sagas_.AddCheckout(txn, c, ttl);
      sagas_.MarkPending(txn, id);
      sagas_.RememberSagaKey(txn, "StartCheckout", caller, request.idempotency_key(), request_bytes,
                             id);
      claims_.TakeLocked(id);
      ticket = Stage(txn);
    }
  }
  if (ticket != 0) {
    Finish(ticket);
  } else {
    claims_.Claim(id);
  }
  auto result = DriveCheckout(id);
  claims_.Unclaim(id);
  return result;
}

StatusOr<RedemptionCore::CheckoutMove> RedemptionCore::MoveCheckout(const Checkout& c,
                                                                    const CheckoutRecord& record) {
  const std::string& id = c.checkout_id();
  CheckoutMove move;
  move.next = c;
  Checkout& next = move.next;
  if (c.state() == v1::CHECKOUT_STATE_OPENING) {
    v1::HoldPointsRequest hold_request;
    hold_request.set_member_id(c.member_id());
    hold_request.set_points(c.points_held());
    hold_request.set_ttl_seconds(record.ttl_seconds());
    hold_request.set_reference("checkout " + c.reference());
    hold_request.set_idempotency_key("redemption:" + id + ":hold");
    auto hold =
        CallAccrual<v1::Hold>("checkout_hold", [&] { return accrual_.HoldPoints(hold_request); });
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
      move.failure_code = static_cast<int32_t>(hold.status().code());
      move.outcome = "failed";
    }
  } else if (c.state() == v1::CHECKOUT_STATE_COMPLETING) {
    v1::CaptureHoldRequest capture;
    capture.set_hold_id(c.hold_id());
    capture.set_points(record.finish_points());
    capture.set_idempotency_key("redemption:" + id + ":capture");
    auto captured =
        CallAccrual<v1::Hold>("checkout_capture", [&] { return accrual_.CaptureHold(capture); });
    if (!captured.ok() && ShouldRetryAccrualCall(captured.status())) {
      return Status(Code::kUnavailable, "accrual: " + captured.status().message());
    }
    if (captured.ok()) {
      next.set_state(v1::CHECKOUT_STATE_COMPLETED);
      next.set_points_captured(captured->captured());
      next.set_discount_minor(captured->captured() * config_.point_value_minor);
      move.outcome = "completed";
    } else {
      next.set_state(v1::CHECKOUT_STATE_EXPIRED);
      next.set_failure_reason(captured.status().message());
      move.outcome = "expired";
    }
  } else {  // CANCELLING
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
    move.outcome = "cancelled";
  }
  return move;
}

StatusOr<Checkout> RedemptionCore::DriveCheckout(const std::string& id) {
  for (;;) {
    Checkout c;
    CheckoutRecord record;
    {
      std::lock_guard lock(mu_);
      CheckoutRecord* found = nullptr;
      if (sagas_.FindCheckout(id, &found) == nullptr) {
        return NotFound("checkout_id: checkout '" + Quote(id) + "' not found");
      }
      record = *found;
      c = record.checkout();
    }
    switch (c.state()) {
      case v1::CHECKOUT_STATE_OPENING:
      case v1::CHECKOUT_STATE_COMPLETING:
      case v1::CHECKOUT_STATE_CANCELLING:
        break;
      case v1::CHECKOUT_STATE_FAILED:
        return Status(static_cast<Code>(record.failure_code()), c.failure_reason());
      default:
        return c;
    }
    auto move = MoveCheckout(c, record);
    if (!move.ok()) return move.status();
    const Checkout& next = move->next;
    uint64_t ticket;
    {
      std::lock_guard lock(mu_);
      Txn txn;
      CheckoutRecord* stored = nullptr;
      sagas_.FindCheckout(id, &stored);
      if (move->failure_code != 0) stored->set_failure_code(move->failure_code);
      sagas_.PutCheckout(txn, next);
      sagas_.IndexOpenCheckout(txn, c, next);
      sagas_.MarkDone(txn, id);
      ticket = Stage(txn);
    }
    Finish(ticket);
    if (!move->outcome.empty()) observer_->CheckoutFinished(move->outcome, next.points_captured());
    if (next.state() == v1::CHECKOUT_STATE_EXPIRED) {
      return Status(Code::kFailedPrecondition, "checkout_id: " + next.failure_reason());
    }
  }
}

StatusOr<Checkout> RedemptionCore::CompleteCheckout(const Principal& caller,
                                                    const v1::CompleteCheckoutRequest& request) {
  if (Status s = CheckId("checkout_id", request.checkout_id()); !s.ok()) return s;
  if (request.points() < 0) return InvalidArgument("points: must not be negative");
  if (Status s = CheckIdempotencyKey(request.idempotency_key()); !s.ok()) return s;
  const std::string& key = request.idempotency_key();
  return BeginCheckoutStep(
      caller, request.checkout_id(), key, request.points(), v1::CHECKOUT_STATE_COMPLETING,
      [&](const Checkout& c, const CheckoutRecord& record) -> Status {
        if (!record.finish_key().empty()) {
          // Already being finished: the same caller's same call is a retry, another one a
          // conflict (another caller's same key never sees this one's answer).
          bool mine = record.finish_key() == key && FinishPrincipal(record) == caller.value();
          bool same = mine && record.finish_points() == request.points() &&
                      (c.state() == v1::CHECKOUT_STATE_COMPLETING ||
                       c.state() == v1::CHECKOUT_STATE_COMPLETED ||
                       c.state() == v1::CHECKOUT_STATE_EXPIRED);
          if (same) return Status::Ok();
          return mine ? AlreadyExists("idempotency_key: '" + Quote(key) +
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

StatusOr<Checkout> RedemptionCore::CancelCheckout(const Principal& caller,
                                                  const v1::CancelCheckoutRequest& request) {
  if (Status s = CheckId("checkout_id", request.checkout_id()); !s.ok()) return s;
  if (Status s = CheckIdempotencyKey(request.idempotency_key()); !s.ok()) return s;
  const std::string& key = request.idempotency_key();
  return BeginCheckoutStep(
      caller, request.checkout_id(), key, 0, v1::CHECKOUT_STATE_CANCELLING,
      [&](const Checkout& c, const CheckoutRecord& record) -> Status {
        if (!record.finish_key().empty()) {
          // Already being finished: only the same caller's same cancellation is a retry.
          if (record.finish_key() == key && FinishPrincipal(record) == caller.value() &&
              (c.state() == v1::CHECKOUT_STATE_CANCELLING ||
               c.state() == v1::CHECKOUT_STATE_CANCELLED)) {
            return Status::Ok();
          }
        } else if (c.state() == v1::CHECKOUT_STATE_OPEN) {
          return Status::Ok();
        }
        return FailedPrecondition("checkout_id: checkout is " + v1::CheckoutState_Name(c.state()));
      });
}

StatusOr<Checkout> RedemptionCore::BeginCheckoutStep(const Principal& caller, const std::string& id,
                                                     const std::string& key, int64_t points,
                                                     v1::CheckoutState next_state,
                                                     const CheckoutJudge& judge) {
  claims_.Claim(id);
  uint64_t ticket = 0;
  Status refusal;
  {
    std::lock_guard lock(mu_);
    CheckoutRecord* record = nullptr;
    Checkout* c = sagas_.FindCheckout(id, &record);
    if (c == nullptr) {
      refusal = NotFound("checkout_id: checkout '" + Quote(id) + "' not found");
    } else {
      refusal = judge(*c, *record);
      if (refusal.ok() && record->finish_key().empty()) {  // not a retry: start the step
        Txn txn;
        record->set_finish_key(key);
        record->set_finish_principal(caller.value());
        record->set_finish_points(points);
        Checkout next = *c;
        next.set_state(next_state);
        next.set_finished_by(caller.value());
        sagas_.PutCheckout(txn, next);
        sagas_.MarkPending(txn, id);
        ticket = Stage(txn);
      }
    }
  }
  if (!refusal.ok()) {
    claims_.Unclaim(id);
    return refusal;
  }
  if (ticket != 0) Finish(ticket);
  auto result = DriveCheckout(id);
  claims_.Unclaim(id);
  return result;
}

StatusOr<Checkout> RedemptionCore::GetCheckout(const std::string& checkout_id) {
  if (Status s = CheckId("checkout_id", checkout_id); !s.ok()) return s;
  std::lock_guard lock(mu_);
  Checkout* c = sagas_.FindCheckout(checkout_id);
  if (c == nullptr) return NotFound("checkout_id: checkout '" + Quote(checkout_id) + "' not found");
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
    Txn txn;
    for (const std::string& id : sagas_.TakeExpiredCheckouts(txn, clock_.NowMs())) {
      // One being completed or cancelled right now is left to that call.
      if (claims_.HeldLocked(id)) continue;
      Checkout* c = sagas_.FindCheckout(id);
      if (c == nullptr || c->state() != v1::CHECKOUT_STATE_OPEN) continue;
      Checkout next = *c;
      next.set_state(v1::CHECKOUT_STATE_EXPIRED);
      next.set_failure_reason("hold expired: the checkout was abandoned");
      sagas_.PutCheckout(txn, next);
      ++expired;
    }
    if (txn.empty()) return 0;
    ticket = Stage(txn);
  }
  Finish(ticket);
  for (int i = 0; i < expired; ++i) observer_->CheckoutFinished("expired", 0);
  return expired;
}

}  // namespace loyalty::redemption
