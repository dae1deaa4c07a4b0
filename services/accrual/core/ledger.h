// The Ledger is the only code that changes a member's balance. A Posting says what one
// entry moves (deltas of available, held, pending and debt) and how the available change
// meets the lots; Post applies it, records the entry and its event in the same
// transaction, updates the lifetime counters, fills the metrics facts and checks the
// invariants: nothing negative (debt is recorded as debt, never as a negative balance),
// the lots sum to the available balance, and the entry equals the change. A violation
// stops the process before anything is written.
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/events.pb.h"
#include "services/accrual/core/accrual_config.h"
#include "services/accrual/core/timers.h"
#include "services/accrual/core/txn.h"
#include "services/accrual/core/types.h"

namespace loyalty::accrual {

// How a posting's available change meets the member's lots.
enum class LotMove {
  kNone,         // available does not change
  kCreditNew,    // credited to the lot of today's expiry date
  kDebitOldest,  // taken from the lots that expire first
  kRestore,      // the slices given back to their own lots (a released hold)
  kExpire,       // the lot of expire_date leaves
};

struct Posting {
  v1::LedgerKind kind = v1::LEDGER_KIND_UNSPECIFIED;
  Points available, held, pending, debt;  // deltas
  LotMove lots = LotMove::kNone;
  LotSlices restore;   // kRestore: they sum to available
  TimeMs expire_date;  // kExpire
  std::string reason;
  std::string source_id;       // the purchase, refund, hold, key... the entry came from
  std::string metrics_source;  // the source label of the metrics facts (awards)
  std::optional<v1::EarnBreakdown> breakdown;  // earned points: how they were computed

  // Debt this posting repays (a credit repays debt before it adds to available).
  Points repaid() const { return debt.negative() ? -debt : Points(0); }
};

// Postings whose split depends on the balance, computed in one place.
// points are credited: debt is repaid first, the rest is available in a new lot.
Posting CreditPosting(v1::LedgerKind kind, const v1::Balance& balance, Points points);
// points are taken: from available, oldest lots first; what is missing becomes debt.
Posting DebitPosting(v1::LedgerKind kind, const v1::Balance& balance, Points points);

class Ledger {
 public:
  Ledger(const AccrualConfig& config, const Clock& clock, Timers& timers);

  struct Posted {
    v1::LedgerEntry entry;
    LotSlices taken;  // kDebitOldest: what came from which lot
  };
  // Applies posting to member, records the entry and publishes event (its payload's
  // balance is filled with the balance after the posting).
  Posted Post(Txn& txn, MemberRecord& member, Posting posting, v1::LoyaltyEvent event);
  // Publishes an event that moves no points, in the member's sequence.
  void Emit(Txn& txn, MemberRecord& member, v1::LoyaltyEvent event);

 private:
  void MoveLots(Txn& txn, MemberRecord& member, const Posting& posting, Posted& posted);
  void ScheduleLot(Txn& txn, const MemberRecord& member, TimeMs expires, bool remind);
  // Lot expiry and its reminder (timer handlers).
  void ExpireLot(Txn& txn, MemberRecord& member, TimeMs expires);
  void RemindLot(Txn& txn, MemberRecord& member, TimeMs expires);

  const AccrualConfig& config_;
  const Clock& clock_;
  Timers& timers_;
};

// The points an entry is about, by kind (earned, clawed back, held, captured, ...).
Points GrossPoints(const v1::LedgerEntry& entry);

}  // namespace loyalty::accrual
