// The pure checks on what callers send.
#include "services/notification/core/validation.h"

#include <gtest/gtest.h>

namespace loyalty::notification {
namespace {

v1::Preferences Valid() {
  v1::Preferences p;
  p.set_member_id("m1");
  p.set_email("m1@example.com");
  p.add_channels("email");
  return p;
}

std::string FirstError(const v1::Preferences& p) { return ValidatePreferences(p).message(); }

TEST(ValidationTest, AddressesAndIds) {
  EXPECT_TRUE(ValidEmail("a@b.co"));
  EXPECT_FALSE(ValidEmail("a@b"));
  EXPECT_FALSE(ValidEmail("a b@c.de"));
  EXPECT_TRUE(ValidPhone("+380501234567"));
  EXPECT_FALSE(ValidPhone("+0501234567"));
  EXPECT_TRUE(ValidUrl("https://hooks.example.com/x"));
  EXPECT_FALSE(ValidUrl("ftp://hooks.example.com/x"));
  EXPECT_TRUE(ValidChatId("-100123"));
  EXPECT_FALSE(ValidChatId("-"));
  EXPECT_TRUE(ValidId("member_1@shop"));
  EXPECT_FALSE(ValidId(std::string(129, 'a')));
  v1::Preferences p = Valid();
  EXPECT_EQ(AddressOf(p, "email"), "m1@example.com");
  EXPECT_EQ(AddressOf(p, "fax"), "");
}

TEST(ValidationTest, EachRefusalNamesItsField) {
  EXPECT_TRUE(ValidatePreferences(Valid()).ok());
  v1::Preferences p = Valid();
  p.add_channels("email");
  EXPECT_EQ(FirstError(p), "preferences.channels[1]: 'email' listed twice");
  p = Valid();
  p.add_channels("telegram");
  EXPECT_EQ(FirstError(p),
            "preferences.channels[1]: 'telegram' has no address (link the chat through the bot)");
  p = Valid();
  p.set_utc_offset_minutes(900);
  EXPECT_EQ(FirstError(p), "preferences.utc_offset_minutes: must be -720..840");
  p = Valid();
  p.set_daily_cap(1001);
  EXPECT_EQ(FirstError(p), "preferences.daily_cap: must be 0..1000");
  p = Valid();
  p.set_time_zone("Mars/Olympus");
  EXPECT_EQ(FirstError(p).rfind("preferences.time_zone:", 0), 0u);
  p = Valid();
  p.clear_member_id();
  EXPECT_EQ(FirstError(p), "preferences.member_id: required");
}

}  // namespace
}  // namespace loyalty::notification
