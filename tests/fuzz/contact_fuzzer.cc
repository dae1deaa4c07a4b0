// Members' phones and e-mails as clients send them (accrual's NormalizePhone and
// NormalizeEmail, referral's ComparablePhone and ComparableEmail): the first byte picks the
// default country code, the rest is the contact. A normalised contact normalises to itself,
// and is one that notification's checks accept.
#include <cstdint>
#include <string>

#include "services/accrual/core/contact.h"
#include "services/notification/core/validation.h"
#include "services/referral/core/codes.h"
#include "tests/fuzz/fuzz_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loyalty;
  fuzz::Input in(data, size);
  static const char* const kCountries[] = {"", "380", "48", "1"};
  std::string country = kCountries[in.Byte() % 4];
  std::string raw = in.Rest();

  if (auto phone = accrual::NormalizePhone(raw, country); phone.ok()) {
    auto again = accrual::NormalizePhone(*phone, country);
    FUZZ_CHECK(again.ok() && *again == *phone);
    FUZZ_CHECK(notification::ValidPhone(*phone));
  }
  if (auto email = accrual::NormalizeEmail(raw); email.ok()) {
    auto again = accrual::NormalizeEmail(*email);
    FUZZ_CHECK(again.ok() && *again == *email);
  }
  (void)referral::ComparablePhone(raw);
  (void)referral::ComparableEmail(raw);
  return 0;
}
