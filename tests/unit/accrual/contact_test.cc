#include "services/accrual/core/contact.h"

#include <gtest/gtest.h>

namespace loyalty::accrual {
namespace {

TEST(PhoneTest, NormalisesToE164) {
  EXPECT_EQ(*NormalizePhone("+380 (67) 123-45-67", ""), "+380671234567");
  EXPECT_EQ(*NormalizePhone("00380671234567", ""), "+380671234567");
  EXPECT_EQ(*NormalizePhone("067 123 45 67", "380"), "+380671234567");
  EXPECT_EQ(*NormalizePhone("+36.1.234.5678", ""), "+3612345678");
}

TEST(PhoneTest, RejectsWhatIsNotAPhoneAndNamesTheField) {
  for (const char* bad :
       {"", "12345", "+0123456789", "+38067abc4567", "0671234567", "+1234567890123456"}) {
    auto result = NormalizePhone(bad, "");
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(result.status().message().rfind("phone:", 0), 0u) << result.status().message();
  }
}

TEST(EmailTest, TrimsAndLowerCases) {
  EXPECT_EQ(*NormalizeEmail("  Olena.K+promo@Example.COM "), "olena.k+promo@example.com");
}

TEST(EmailTest, RejectsMalformedAddresses) {
  for (const char* bad : {"", "no-at.example.com", "a@b", "a@@b.com", "@b.com", "a b@c.com",
                          "a@-b.com", "a@b..com", "a@b.com.", "a@b_c.com"}) {
    auto result = NormalizeEmail(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.status().message().rfind("email:", 0), 0u);
  }
}

}  // namespace
}  // namespace loyalty::accrual
