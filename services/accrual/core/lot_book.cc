#include "services/accrual/core/lot_book.h"

#include <algorithm>
#include <cstdint>

#include "common/check.h"

namespace loyalty::accrual {
namespace {

// Never-expiring lots (0) sort last.
int64_t SortKey(int64_t expires_at_ms) { return expires_at_ms == 0 ? INT64_MAX : expires_at_ms; }

}  // namespace

bool LotBook::Credit(MemberRecord& member, Points points, TimeMs expires_at) {
  LOYALTY_CHECK(!points.negative(), "a lot credit of " + std::to_string(points.value()));
  auto* lots = member.mutable_lots();
  int64_t expires = expires_at.value();
  int i = 0;
  while (i < lots->size() && SortKey(lots->Get(i).expires_at_ms()) < SortKey(expires)) ++i;
  if (i < lots->size() && lots->Get(i).expires_at_ms() == expires) {
    lots->Mutable(i)->set_points(lots->Get(i).points() + points.value());
    return false;
  }
  Lot lot;
  lot.set_expires_at_ms(expires);
  lot.set_points(points.value());
  lots->Add(std::move(lot));
  for (int j = lots->size() - 1; j > i; --j) lots->SwapElements(j, j - 1);
  return true;
}

LotSlices LotBook::Debit(MemberRecord& member, Points points) {
  LOYALTY_CHECK(!points.negative() && points <= Total(member),
                "a lot debit of " + std::to_string(points.value()) + " from " +
                    std::to_string(Total(member).value()));
  LotSlices taken;
  int64_t left = points.value();
  for (auto& lot : *member.mutable_lots()) {
    if (left == 0) break;
    int64_t take = std::min(left, lot.points());
    if (take == 0) continue;
    lot.set_points(lot.points() - take);
    left -= take;
    Lot& slice = taken.emplace_back();
    slice.set_expires_at_ms(lot.expires_at_ms());
    slice.set_points(take);
  }
  return taken;
}

std::vector<TimeMs> LotBook::Restore(MemberRecord& member, const LotSlices& slices) {
  std::vector<TimeMs> new_dates;
  for (const auto& slice : slices) {
    TimeMs date(slice.expires_at_ms());
    if (Credit(member, Points(slice.points()), date) && date.value() != 0) {
      new_dates.push_back(date);
    }
  }
  return new_dates;
}

Points LotBook::Expire(MemberRecord& member, TimeMs expires_at) {
  auto* lots = member.mutable_lots();
  for (int i = 0; i < lots->size(); ++i) {
    if (lots->Get(i).expires_at_ms() == expires_at.value()) {
      Points points(lots->Get(i).points());
      lots->DeleteSubrange(i, 1);
      return points;
    }
  }
  return Points(0);
}

Points LotBook::On(const MemberRecord& member, TimeMs expires_at) {
  for (const auto& lot : member.lots()) {
    if (lot.expires_at_ms() == expires_at.value()) return Points(lot.points());
  }
  return Points(0);
}

Points LotBook::Total(const MemberRecord& member) {
  int64_t sum = 0;
  for (const auto& lot : member.lots()) sum += lot.points();
  return Points(sum);
}

Points LotBook::Total(const LotSlices& slices) {
  int64_t sum = 0;
  for (const auto& slice : slices) sum += slice.points();
  return Points(sum);
}

}  // namespace loyalty::accrual
