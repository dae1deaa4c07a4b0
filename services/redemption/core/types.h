// Redemption's column families (with the module that owns each), limits, and the input
// checks every module shares. docs/architecture.md has the module map.
#pragma once

#include <cstdint>
#include <string>

#include "common/field_limits.h"
#include "common/status.h"

namespace loyalty::redemption {

namespace cf {
inline constexpr char kRewards[] = "rewards";                       // Catalog
inline constexpr char kMembers[] = "members";                       // MemberStates
inline constexpr char kRedemptions[] = "redemptions";               // SagaBook
inline constexpr char kMemberRedemptions[] = "member_redemptions";  // SagaBook (index)
inline constexpr char kVouchers[] = "vouchers";                     // VoucherBook
inline constexpr char kPending[] = "pending_sagas";                 // SagaBook
inline constexpr char kIdempotency[] = "idempotency";               // SagaBook, common/idempotent.h
inline constexpr char kCheckouts[] = "checkouts";                   // SagaBook
inline constexpr char kOpenCheckouts[] = "open_checkouts";          // SagaBook (by expiry)
inline constexpr char kDraws[] = "draws";                           // prize draws
}  // namespace cf

inline constexpr int64_t kMaxPoints = 1'000'000'000'000;
inline constexpr int64_t kMaxAmountMinor = 100'000'000'000;
inline constexpr size_t kMaxIdLength = limits::kIdBytes;  // common/field_limits.h
inline constexpr size_t kMaxTextLength = limits::kTextBytes;
inline constexpr size_t kMaxEntrants = limits::kMaxEntrants;

// 1-128 letters, digits and _ - . : @
bool ValidId(const std::string& id);
// INVALID_ARGUMENT naming field unless id is a valid id.
Status CheckId(const std::string& field, const std::string& id);

}  // namespace loyalty::redemption
