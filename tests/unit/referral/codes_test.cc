#include <gtest/gtest.h>

#include <set>

#include "services/referral/core/codes.h"

namespace loyalty::referral {
namespace {

TEST(CodesTest, GeneratedCodesAreStableShortAndUnambiguous) {
  EXPECT_EQ(GeneratedCode("m1", 0), GeneratedCode("m1", 0));
  EXPECT_NE(GeneratedCode("m1", 0), GeneratedCode("m1", 1));
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) {
    std::string code = GeneratedCode("member-" + std::to_string(i), 0);
    ASSERT_EQ(code.size(), kGeneratedCodeLength);
    EXPECT_EQ(code.find_first_of("01OI"), std::string::npos) << code;
    seen.insert(code);
  }
  EXPECT_GE(seen.size(), 19990u);  // 40 bits: collisions are rare and handled by attempts
}

TEST(CodesTest, TypedCodesAreNormalised) {
  EXPECT_EQ(*NormalizeCode("code", " abcd-efgh "), "ABCDEFGH");
  EXPECT_EQ(NormalizeCode("code", "").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(NormalizeCode("code", "ab!cd").status().message().rfind("code:", 0), 0u);
  EXPECT_EQ(NormalizeVanityCode("code", "abc").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(*NormalizeVanityCode("code", "anna-2026"), "ANNA2026");
}

TEST(CodesTest, ContactsCompareAsTheSamePerson) {
  EXPECT_EQ(ComparablePhone("+380 67 111-00-01"), ComparablePhone("+380671110001"));
  EXPECT_EQ(ComparableEmail("A.Nna+promo@GMail.com"), ComparableEmail("anna@gmail.com"));
  EXPECT_NE(ComparableEmail("a.nna@example.com"), ComparableEmail("anna@example.com"));
}

}  // namespace
}  // namespace loyalty::referral
