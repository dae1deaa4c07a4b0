#include "services/accrual/core/hold_book.h"

#include <algorithm>

#include "common/check.h"
#include "common/field_limits.h"
#include "common/ids.h"
#include "common/key_codec.h"
#include "common/partitioning.h"

namespace loyalty::accrual {
namespace {

std::string HoldExpiryKey(int64_t expires_at_ms, const std::string& hold_id) {
  std::string key;
  keys::AppendI64(key, expires_at_ms);
  key += hold_id;
  return key;
}

// The slices of a capture that go back: the captured points leave the lots that expire
// first.
LotSlices Unspent(LotSlices slices, Points spent) {
  LotSlices back;
  int64_t to_spend = spent.value();
  for (auto& slice : slices) {
    int64_t spend = std::min(to_spend, slice.points());
    to_spend -= spend;
    if (slice.points() > spend) {
      slice.set_points(slice.points() - spend);
      back.push_back(slice);
    }
  }
  return back;
}

}  // namespace

HoldBook::HoldBook(const Store& store, MemberBook& members, Ledger& ledger, const Clock& clock)
    : store_(store), members_(members), ledger_(ledger), clock_(clock) {
  store_.Scan(cf::kHoldExpiry, "", "", [&](std::string_view key, std::string_view) {
    open_.emplace(keys::ReadI64(key), std::string(key.substr(8)));
    return true;
  });
}

StatusOr<v1::Hold> HoldBook::Load(const std::string& hold_id) const {
  if (hold_id.empty()) return InvalidArgument("hold_id: required");
  std::string value;
  v1::Hold hold;
  if (!store_.Get(cf::kHolds, hold_id, &value) || !hold.ParseFromString(value)) {
    return NotFound("hold_id: hold '" + Quote(hold_id) + "' not found");
  }
  return hold;
}

LotSlices HoldBook::LoadSlices(const std::string& hold_id) const {
  std::string value;
  v1::internal::HoldLots lots;
  if (store_.Get(cf::kHoldLots, hold_id, &value)) lots.ParseFromString(value);
  return {lots.lots().begin(), lots.lots().end()};
}

StatusOr<v1::Hold> HoldBook::Open(Txn& txn, MemberRecord& member, Points points, DurationMs ttl,
                                  const std::string& reference) {
  auto opened = OpenHold(txn, member, points, ttl, reference);
  if (!opened.ok()) return opened.status();
  *opened->hold.mutable_balance() = member.member().balance();
  return std::move(opened->hold);
}

StatusOr<v1::Hold> HoldBook::OpenCaptured(Txn& txn, MemberRecord& member, Points points,
                                          DurationMs ttl, const std::string& reference) {
  auto opened = OpenHold(txn, member, points, ttl, reference);
  if (!opened.ok()) return opened.status();
  return Settle(txn, member, std::move(opened->hold), std::move(opened->slices), points);
}

StatusOr<HoldBook::Opened> HoldBook::OpenHold(Txn& txn, MemberRecord& member, Points points,
                                              DurationMs ttl, const std::string& reference) {
  const v1::Balance& balance = member.member().balance();
  if (points.value() > balance.available()) {
    return FailedPrecondition("points: " + std::to_string(points.value()) + " requested but only " +
                              std::to_string(balance.available()) + " available");
  }
  TimeMs now(clock_.NowMs());
  v1::Hold hold;
  hold.set_hold_id(DrawIdBeside(member.member().member_id(), partitions_,
                                [&] { return NewId("h", now.value()); }));
  hold.set_member_id(member.member().member_id());
  hold.set_points(points.value());
  hold.set_status(v1::HOLD_STATUS_OPEN);
  hold.set_created_at_ms(now.value());
  hold.set_expires_at_ms((now + ttl).value());
  hold.set_reference(reference);

  Posting posting;
  posting.kind = v1::LEDGER_KIND_HOLD;
  posting.available = -points;
  posting.held = points;
  posting.lots = LotMove::kDebitOldest;
  posting.reason = reference.empty() ? "points held" : "points held for " + reference;
  posting.source_id = hold.hold_id();
  v1::LoyaltyEvent event;
  auto* held = event.mutable_points_held();
  held->set_hold_id(hold.hold_id());
  held->set_points(points.value());
  held->set_expires_at_ms(hold.expires_at_ms());
  held->set_reference(reference);
  Ledger::Posted posted = ledger_.Post(txn, member, std::move(posting), std::move(event));

  txn.Put(cf::kHolds, hold.hold_id(), hold.SerializeAsString(), /*visible=*/true);
  v1::internal::HoldLots slices;
  for (const auto& slice : posted.taken) *slices.add_lots() = slice;
  txn.Put(cf::kHoldLots, hold.hold_id(), slices.SerializeAsString(), /*visible=*/true);
  txn.Put(cf::kHoldExpiry, HoldExpiryKey(hold.expires_at_ms(), hold.hold_id()), "");
  open_.emplace(hold.expires_at_ms(), hold.hold_id());
  return Opened{std::move(hold), std::move(posted.taken)};
}

StatusOr<v1::Hold> HoldBook::Capture(Txn& txn, const std::string& hold_id, Points requested,
                                     bool& expired_now) {
  auto loaded = Load(hold_id);
  if (!loaded.ok()) return loaded.status();
  v1::Hold hold = std::move(*loaded);
  if (hold.status() != v1::HOLD_STATUS_OPEN) {
    return FailedPrecondition("hold_id: hold is " + v1::HoldStatus_Name(hold.status()));
  }
  Points held(hold.points());
  Points points = requested.zero() ? held : requested;
  if (points.negative()) return InvalidArgument("points: must not be negative");
  if (points > held) {
    return InvalidArgument("points: " + std::to_string(points.value()) + " exceeds the " +
                           std::to_string(held.value()) + " held");
  }
  if (clock_.NowMs() >= hold.expires_at_ms()) {
    expired_now = true;
    return FailedPrecondition("hold_id: hold expired");
  }
  MemberRecord* member = members_.Find(hold.member_id());
  LOYALTY_CHECK(member != nullptr, "the member of hold " + hold_id + " is gone");
  return Settle(txn, *member, std::move(hold), LoadSlices(hold_id), points);
}

v1::Hold HoldBook::Settle(Txn& txn, MemberRecord& member, v1::Hold hold, LotSlices slices,
                          Points points) {
  LOYALTY_CHECK(hold.status() == v1::HOLD_STATUS_OPEN, "settling a hold that is not open");
  const std::string& hold_id = hold.hold_id();
  Points held(hold.points());
  LOYALTY_CHECK(!points.negative() && points <= held, "capturing more than the hold");
  Points released = held - points;
  hold.set_captured(points.value());
  hold.set_status(v1::HOLD_STATUS_CAPTURED);

  Posting posting;
  posting.kind = v1::LEDGER_KIND_CAPTURE;
  posting.available = released;
  posting.held = -held;
  posting.lots = LotMove::kRestore;
  posting.restore = Unspent(std::move(slices), points);
  posting.reason =
      hold.reference().empty() ? "points spent" : "points spent on " + hold.reference();
  posting.source_id = hold_id;
  v1::LoyaltyEvent event;
  auto* captured = event.mutable_hold_captured();
  captured->set_hold_id(hold_id);
  captured->set_captured(points.value());
  captured->set_released(released.value());
  captured->set_reference(hold.reference());
  ledger_.Post(txn, member, std::move(posting), std::move(event));
  End(txn, hold);
  *hold.mutable_balance() = member.member().balance();
  return hold;
}

StatusOr<v1::Hold> HoldBook::Void(Txn& txn, const std::string& hold_id) {
  auto loaded = Load(hold_id);
  if (!loaded.ok()) return loaded.status();
  if (loaded->status() != v1::HOLD_STATUS_OPEN) {
    return FailedPrecondition("hold_id: hold is " + v1::HoldStatus_Name(loaded->status()));
  }
  return Release(txn, std::move(*loaded), v1::HOLD_STATUS_VOIDED);
}

v1::Hold HoldBook::Release(Txn& txn, v1::Hold hold, v1::HoldStatus status) {
  MemberRecord* member = members_.Find(hold.member_id());
  LOYALTY_CHECK(member != nullptr, "the member of hold " + hold.hold_id() + " is gone");
  hold.set_status(status);
  bool expired = status == v1::HOLD_STATUS_EXPIRED;
  Posting posting;
  posting.kind = expired ? v1::LEDGER_KIND_HOLD_EXPIRED : v1::LEDGER_KIND_VOID;
  posting.available = Points(hold.points());
  posting.held = -Points(hold.points());
  posting.lots = LotMove::kRestore;
  posting.restore = LoadSlices(hold.hold_id());
  posting.reason = expired ? "hold expired" : "hold voided";
  posting.source_id = hold.hold_id();
  v1::LoyaltyEvent event;
  auto* released = expired ? event.mutable_hold_expired() : event.mutable_hold_voided();
  released->set_hold_id(hold.hold_id());
  released->set_released(hold.points());
  released->set_reference(hold.reference());
  ledger_.Post(txn, *member, std::move(posting), std::move(event));
  hold.clear_balance();
  End(txn, hold);
  *hold.mutable_balance() = member->member().balance();
  return hold;
}

void HoldBook::End(Txn& txn, const v1::Hold& hold) {
  LOYALTY_CHECK(hold.status() != v1::HOLD_STATUS_OPEN, "ending an open hold");
  txn.Put(cf::kHolds, hold.hold_id(), hold.SerializeAsString(), /*visible=*/true);
  txn.Erase(cf::kHoldLots, hold.hold_id());
  txn.Erase(cf::kHoldExpiry, HoldExpiryKey(hold.expires_at_ms(), hold.hold_id()));
  open_.erase({hold.expires_at_ms(), hold.hold_id()});
}

int HoldBook::ExpireDue(Txn& txn, TimeMs now) {
  int expired = 0;
  while (!open_.empty() && open_.begin()->first <= now.value()) {
    std::string hold_id = open_.begin()->second;
    auto hold = Load(hold_id);
    if (!hold.ok() || hold->status() != v1::HOLD_STATUS_OPEN) {
      open_.erase(open_.begin());
      continue;
    }
    Release(txn, std::move(*hold), v1::HOLD_STATUS_EXPIRED);
    ++expired;
  }
  return expired;
}

void HoldBook::VoidAllOf(Txn& txn, const std::string& member_id) {
  std::vector<v1::Hold> holds;
  for (const auto& [expires, hold_id] : open_) {
    auto hold = Load(hold_id);
    if (hold.ok() && hold->member_id() == member_id) holds.push_back(*hold);
  }
  for (auto& hold : holds) Release(txn, std::move(hold), v1::HOLD_STATUS_VOIDED);
}

}  // namespace loyalty::accrual
