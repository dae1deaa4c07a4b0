// Codes members type: voucher codes (redemption's NormalizeVoucherCode) and referral codes
// (referral's NormalizeCode, NormalizeVanityCode). A normalised code normalises to itself.
#include <cstdint>
#include <string>

#include "services/redemption/core/voucher_code.h"
#include "services/referral/core/codes.h"
#include "tests/fuzz/fuzz_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyalty;
  std::string typed(reinterpret_cast<const char*>(data), size);
  if (auto voucher = redemption::NormalizeVoucherCode(typed); voucher.ok()) {
    auto again = redemption::NormalizeVoucherCode(*voucher);
    FUZZ_CHECK(again.ok() && *again == *voucher);
  }
  if (auto code = referral::NormalizeCode("code", typed); code.ok()) {
    auto again = referral::NormalizeCode("code", *code);
    FUZZ_CHECK(again.ok() && *again == *code);
  }
  if (auto vanity = referral::NormalizeVanityCode("code", typed); vanity.ok()) {
    auto again = referral::NormalizeVanityCode("code", *vanity);
    FUZZ_CHECK(again.ok() && *again == *vanity);
  }
  return 0;
}
