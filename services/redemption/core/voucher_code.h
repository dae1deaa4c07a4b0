// Voucher codes: 75 random bits as 15 Crockford base32 characters plus a Luhn mod 32 check
// character, shown as XXXX-XXXX-XXXX-XXXX. The alphabet has no I, L, O or U, and reading
// maps O to 0 and I/L to 1, so a code read aloud or typed from paper still resolves; the check
// character catches every single-character typo and adjacent swap before a lookup.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"

namespace loyalty::redemption {

// random64: a source of uniformly random 64-bit values (a CSPRNG in production).
std::string NewVoucherCode(const std::function<uint64_t()>& random64);

// The canonical form of a code as typed (case, hyphens, spaces and ambiguous letters
// forgiven), or INVALID_ARGUMENT "code: ..." when it cannot be a voucher code.
StatusOr<std::string> NormalizeVoucherCode(const std::string& typed);

}  // namespace loyalty::redemption
