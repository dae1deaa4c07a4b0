// Referral's named types, its records and the column families it keeps, with the module that
// owns each (docs/architecture.md has the map).
#pragma once

#include <cstddef>
#include <string>

#include "common/field_limits.h"
#include "common/named_type.h"
#include "common/status.h"
#include "loyalty/v1/referral.pb.h"
#include "loyalty/v1/referral_internal.pb.h"

namespace loyalty::referral {

using loyalty::DurationMs;
using loyalty::MemberId;
using loyalty::Points;
using loyalty::TimeMs;

// What referral knows of a member: its codes, the referral it joined with, the referrals it
// made recently (for the cap), its recent purchases (for the same-store rule) and sequences.
using MemberState = v1::referralinternal::MemberState;

namespace cf {
inline constexpr char kMembers[] = "members";          // MemberBook
inline constexpr char kCodes[] = "codes";              // CodeBook (code -> member)
inline constexpr char kReferrals[] = "referrals";      // ReferralBook
inline constexpr char kByReferrer[] = "by_referrer";   // ReferralBook (referrer, applied at, id)
inline constexpr char kHeld[] = "held";                // ReferralBook (held for an operator)
inline constexpr char kWork[] = "work";                // ReferralBook (a step is pending)
inline constexpr char kDedupe[] = "event_dedupe";      // qualification flow (ids, no sequence)
inline constexpr char kOffsets[] = "offsets";          // the batch: next offset per partition
inline constexpr char kIdempotency[] = "idempotency";  // common/idempotent.h
}  // namespace cf

inline constexpr size_t kMaxIdLength = limits::kIdBytes;  // common/field_limits.h
inline constexpr char kRoleReferrer[] = "referrer";
inline constexpr char kRoleInvitee[] = "invitee";

// A member id a caller gave in field: required, at most kMaxIdLength characters.
inline Status ValidMemberId(const std::string& field, const std::string& id) {
  if (id.empty()) return InvalidArgument(field + ": required");
  if (id.size() > kMaxIdLength) return InvalidArgument(field + ": longer than 128 characters");
  return Status::Ok();
}

}  // namespace loyalty::referral
