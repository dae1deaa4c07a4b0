// A member's available points as lots, one per expiry date, oldest first (never-expiring
// last). Invariant: the lots sum to the available balance; the Ledger checks it after
// every posting. Lots left at zero stay until their date passes, so a date is scheduled
// for expiry once.
#pragma once

#include <vector>

#include "services/accrual/core/types.h"

namespace loyalty::accrual {

class LotBook {
 public:
  // Adds points to the lot of that expiry (TimeMs(0): never). True if the member had no lot
  // of that date yet: the caller schedules its expiry and reminder once per date.
  static bool Credit(MemberRecord& member, Points points, TimeMs expires_at);
  // Takes points from the lots that expire first; returns what came from which lot (the
  // slices sum to points, which must not exceed the lots' total).
  static LotSlices Debit(MemberRecord& member, Points points);
  // Gives slices back to their lots; returns the dates that had no lot left (to schedule).
  static std::vector<TimeMs> Restore(MemberRecord& member, const LotSlices& slices);
  // Removes the lot of that date; returns its points.
  static Points Expire(MemberRecord& member, TimeMs expires_at);
  static Points On(const MemberRecord& member, TimeMs expires_at);
  static Points Total(const MemberRecord& member);
  static Points Total(const LotSlices& slices);
};

}  // namespace loyalty::accrual
