#include "services/accrual/core/ledger.h"

#include <algorithm>

#include "common/check.h"
#include "common/event_stamp.h"
#include "common/key_codec.h"
#include "services/accrual/core/lot_book.h"
#include "services/accrual/core/member_book.h"
#include "services/accrual/core/rules.h"

namespace loyalty::accrual {
namespace {

const EventSource kAccrualEvents{"accrual", ""};

std::string LedgerKey(const std::string& member_id, int64_t sequence) {
  std::string key;
  keys::AppendString(key, member_id);
  keys::AppendU64(key, static_cast<uint64_t>(sequence));
  return key;
}

// The balance an event reports, for the events that move points.
v1::Balance* EventBalance(v1::LoyaltyEvent& event) {
  switch (event.payload_case()) {
    case v1::LoyaltyEvent::kPointsEarned:
      return event.mutable_points_earned()->mutable_balance();
    case v1::LoyaltyEvent::kPointsReversed:
      return event.mutable_points_reversed()->mutable_balance();
    case v1::LoyaltyEvent::kPointsAwarded:
      return event.mutable_points_awarded()->mutable_balance();
    case v1::LoyaltyEvent::kPointsAdjusted:
      return event.mutable_points_adjusted()->mutable_balance();
    case v1::LoyaltyEvent::kPointsHeld:
      return event.mutable_points_held()->mutable_balance();
    case v1::LoyaltyEvent::kHoldCaptured:
      return event.mutable_hold_captured()->mutable_balance();
    case v1::LoyaltyEvent::kHoldVoided:
      return event.mutable_hold_voided()->mutable_balance();
    case v1::LoyaltyEvent::kHoldExpired:
      return event.mutable_hold_expired()->mutable_balance();
    case v1::LoyaltyEvent::kPendingReleased:
      return event.mutable_pending_released()->mutable_balance();
    case v1::LoyaltyEvent::kPointsExpired:
      return event.mutable_points_expired()->mutable_balance();
    case v1::LoyaltyEvent::kActivityRewarded:
      return event.mutable_activity_rewarded()->mutable_balance();
    default:
      return nullptr;
  }
}

void Add(v1::Balance& b, int64_t (v1::Balance::*get)() const, void (v1::Balance::*set)(int64_t),
         Points delta) {
  (b.*set)((b.*get)() + delta.value());
}

}  // namespace

Posting CreditPosting(v1::LedgerKind kind, const v1::Balance& balance, Points points) {
  LOYALTY_CHECK(!points.negative(), "a credit of " + std::to_string(points.value()));
  Points repaid = Min(Points(balance.debt()), points);
  Posting posting;
  posting.kind = kind;
  posting.available = points - repaid;
  posting.debt = -repaid;
  posting.lots = LotMove::kCreditNew;
  return posting;
}

Posting DebitPosting(v1::LedgerKind kind, const v1::Balance& balance, Points points) {
  LOYALTY_CHECK(!points.negative(), "a debit of " + std::to_string(points.value()));
  Points from_balance = Min(Points(balance.available()), points);
  Posting posting;
  posting.kind = kind;
  posting.available = -from_balance;
  posting.debt = points - from_balance;
  posting.lots = LotMove::kDebitOldest;
  return posting;
}

Points GrossPoints(const v1::LedgerEntry& e) {
  switch (e.kind()) {
    case v1::LEDGER_KIND_EARN:
      return Points(e.available_delta() - e.debt_delta() + e.pending_delta());
    case v1::LEDGER_KIND_CLAWBACK:
      return Points(e.debt_delta() - e.available_delta() - e.pending_delta());
    case v1::LEDGER_KIND_PENDING_RELEASE:
      return Points(-e.pending_delta());
    case v1::LEDGER_KIND_EXPIRE:
      return Points(-e.available_delta());
    case v1::LEDGER_KIND_HOLD:
      return Points(e.held_delta());
    case v1::LEDGER_KIND_CAPTURE:
      return Points(-e.held_delta() - e.available_delta());
    case v1::LEDGER_KIND_VOID:
    case v1::LEDGER_KIND_HOLD_EXPIRED:
      return Points(e.available_delta());
    default:  // awards, adjustments, activities, milestones
      return Points(e.available_delta() - e.debt_delta());
  }
}

Ledger::Ledger(const AccrualConfig& config, const Clock& clock, Timers& timers)
    : config_(config), clock_(clock), timers_(timers) {
  timers_.Register(TimerKind::kExpireLot, [this](Txn& txn, const DueTimer& t, MemberRecord& m) {
    ExpireLot(txn, m, TimeMs(keys::ReadI64(t.reference)));
  });
  timers_.Register(TimerKind::kRemindLot, [this](Txn& txn, const DueTimer& t, MemberRecord& m) {
    RemindLot(txn, m, TimeMs(keys::ReadI64(t.reference)));
  });
}

Ledger::Posted Ledger::Post(Txn& txn, MemberRecord& member, Posting posting,
                            v1::LoyaltyEvent event) {
  v1::Balance& balance = *member.mutable_member()->mutable_balance();
#ifndef NDEBUG
  const v1::Balance before = balance;  // for the entry == change check
#endif
  Posted posted;
  v1::LedgerEntry& entry = posted.entry;
  entry.set_kind(posting.kind);
  entry.set_available_delta(posting.available.value());
  entry.set_held_delta(posting.held.value());
  entry.set_pending_delta(posting.pending.value());
  entry.set_debt_delta(posting.debt.value());
  entry.set_source_id(std::move(posting.source_id));
  entry.set_principal(txn.principal);
  if (posting.breakdown) *entry.mutable_breakdown() = std::move(*posting.breakdown);
  Points gross = GrossPoints(entry);
  // A credit repays debt first (docs/decisions.md): the reason says how much of it did.
  if (Points repaid = posting.repaid(); repaid.positive()) {
    posting.reason += "; +" + std::to_string(gross.value()) + ", of which " +
                      std::to_string(repaid.value()) + " repaid debt";
  }
  entry.set_reason(std::move(posting.reason));

  Add(balance, &v1::Balance::available, &v1::Balance::set_available, posting.available);
  Add(balance, &v1::Balance::held, &v1::Balance::set_held, posting.held);
  Add(balance, &v1::Balance::pending, &v1::Balance::set_pending, posting.pending);
  Add(balance, &v1::Balance::debt, &v1::Balance::set_debt, posting.debt);
  MoveLots(txn, member, posting, posted);
  switch (posting.kind) {
    case v1::LEDGER_KIND_EARN:
    case v1::LEDGER_KIND_AWARD:
    case v1::LEDGER_KIND_ACTIVITY:
    case v1::LEDGER_KIND_MILESTONE:
      Add(balance, &v1::Balance::lifetime_earned, &v1::Balance::set_lifetime_earned, gross);
      break;
    case v1::LEDGER_KIND_CAPTURE:
      Add(balance, &v1::Balance::lifetime_spent, &v1::Balance::set_lifetime_spent, gross);
      break;
    case v1::LEDGER_KIND_CLAWBACK:
      Add(balance, &v1::Balance::lifetime_clawed_back, &v1::Balance::set_lifetime_clawed_back,
          gross);
      break;
    case v1::LEDGER_KIND_EXPIRE:
      Add(balance, &v1::Balance::lifetime_expired, &v1::Balance::set_lifetime_expired, gross);
      break;
    default:
      break;
  }

  const std::string& member_id = member.member().member_id();
  LOYALTY_CHECK(balance.available() >= 0 && balance.held() >= 0 && balance.pending() >= 0 &&
                    balance.debt() >= 0,
                "negative balance of " + member_id + " after " + v1::LedgerKind_Name(entry.kind()));
  LOYALTY_CHECK(LotBook::Total(member).value() == balance.available(),
                "lots of " + member_id + " sum to " +
                    std::to_string(LotBook::Total(member).value()) + ", available is " +
                    std::to_string(balance.available()));
  LOYALTY_DCHECK(balance.available() - before.available() == entry.available_delta() &&
                     balance.held() - before.held() == entry.held_delta() &&
                     balance.pending() - before.pending() == entry.pending_delta() &&
                     balance.debt() - before.debt() == entry.debt_delta(),
                 "the entry of " + member_id + " differs from the change");

  txn.facts.push_back({entry.kind(), gross.value(), std::move(posting.metrics_source)});
  if (v1::Balance* reported = EventBalance(event)) *reported = balance;
  Emit(txn, member, std::move(event));
  entry.set_member_id(member_id);
  entry.set_sequence(member.last_sequence());
  entry.set_occurred_at_ms(clock_.NowMs());
  *entry.mutable_balance_after() = balance;
  txn.Put(cf::kLedger, LedgerKey(member_id, entry.sequence()), entry.SerializeAsString());
  return posted;
}

void Ledger::MoveLots(Txn& txn, MemberRecord& member, const Posting& posting, Posted& posted) {
  const Points available = posting.available;
  switch (posting.lots) {
    case LotMove::kNone:
      LOYALTY_CHECK(available.zero(), "an available change without a lot move");
      return;
    case LotMove::kCreditNew: {
      LOYALTY_CHECK(!available.negative(), "a lot credit must not take points");
      if (available.zero()) return;
      TimeMs now(clock_.NowMs());
      TimeMs expires(LotExpiry(config_, now.value()));
      if (LotBook::Credit(member, available, expires) && expires.value() != 0) {
        ScheduleLot(txn, member, expires, /*remind=*/true);
      }
      return;
    }
    case LotMove::kDebitOldest:
      LOYALTY_CHECK(!available.positive(), "a lot debit must not add points");
      posted.taken = LotBook::Debit(member, -available);
      return;
    case LotMove::kRestore:
      LOYALTY_CHECK(LotBook::Total(posting.restore) == available,
                    "restored slices differ from the available change");
      for (TimeMs date : LotBook::Restore(member, posting.restore)) {
        ScheduleLot(txn, member, date, /*remind=*/false);
      }
      return;
    case LotMove::kExpire:
      LOYALTY_CHECK(LotBook::Expire(member, posting.expire_date) == -available,
                    "an expired lot differs from the available change");
      return;
  }
}

void Ledger::ScheduleLot(Txn& txn, const MemberRecord& member, TimeMs expires, bool remind) {
  const std::string& id = member.member().member_id();
  TimeMs now(clock_.NowMs());
  // A lot whose date passed while its points were held expires at the next run.
  timers_.Add(txn, expires > now ? expires : now, TimerKind::kExpireLot, id,
              keys::EncodeI64(expires.value()));
  if (!remind || config_.expiry_remind_days <= 0) return;
  TimeMs remind_at = expires - Days(config_.expiry_remind_days);
  if (remind_at > now) {
    timers_.Add(txn, remind_at, TimerKind::kRemindLot, id, keys::EncodeI64(expires.value()));
  }
}

void Ledger::Emit(Txn& txn, MemberRecord& member, v1::LoyaltyEvent event) {
  int64_t last_sequence = member.last_sequence();
  txn.Publish(StampEvent(kAccrualEvents, last_sequence, member.member().member_id(), clock_.NowMs(),
                         txn.principal, event));
  member.set_last_sequence(last_sequence);
  MemberBook::Touch(txn, member);
}

void Ledger::ExpireLot(Txn& txn, MemberRecord& member, TimeMs expires) {
  Points points = LotBook::On(member, expires);
  if (!points.positive()) {
    LotBook::Expire(member, expires);  // an emptied lot leaves without an entry
    MemberBook::Touch(txn, member);
    return;
  }
  Posting posting;
  posting.kind = v1::LEDGER_KIND_EXPIRE;
  posting.available = -points;
  posting.lots = LotMove::kExpire;
  posting.expire_date = expires;
  posting.reason = "points expired (credited until " + std::to_string(expires.value()) + ")";
  posting.source_id = "expiry";
  v1::LoyaltyEvent event;
  auto* expired = event.mutable_points_expired();
  expired->set_points(points.value());
  expired->set_lot_expires_at_ms(expires.value());
  Post(txn, member, std::move(posting), std::move(event));
}

void Ledger::RemindLot(Txn& txn, MemberRecord& member, TimeMs expires) {
  Points points = LotBook::On(member, expires);
  if (!points.positive() || member.member().status() == v1::MEMBER_STATUS_ERASED) return;
  v1::LoyaltyEvent event;
  auto* soon = event.mutable_points_expiring_soon();
  soon->set_points(points.value());
  soon->set_expires_at_ms(expires.value());
  *soon->mutable_balance() = member.member().balance();
  Emit(txn, member, std::move(event));
}

}  // namespace loyalty::accrual
