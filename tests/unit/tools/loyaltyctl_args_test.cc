#include "tools/loyaltyctl/args.h"

#include <gtest/gtest.h>

#include <limits>

namespace loyalty::ctl {
namespace {

const std::set<std::string> kSwitches = {"json", "help"};

TEST(ArgsTest, CommandWordsAndBothFlagForms) {
  Args args = Args::Parse({"--json", "award", "m1", "--reason", "goodwill", "100", "--source=ref"},
                          kSwitches);
  EXPECT_EQ(args.command(), "award");
  EXPECT_EQ(args.words(), (std::vector<std::string>{"m1", "100"}));
  EXPECT_TRUE(args.Has("json"));
  EXPECT_EQ(args.Get("reason"), "goodwill");
  EXPECT_EQ(args.Get("source"), "ref");
  EXPECT_EQ(args.Get("missing", "fallback"), "fallback");
}

TEST(ArgsTest, SwitchNeverTakesTheNextWord) {
  Args args = Args::Parse({"--json", "balance", "m1"}, kSwitches);
  EXPECT_EQ(args.command(), "balance");
  EXPECT_EQ(args.Get("json"), "");
}

TEST(ArgsTest, NegativeNumbersAreWords) {
  Args args = Args::Parse({"adjust", "m1", "-50", "--reason=x", "--actor", "ops"}, kSwitches);
  EXPECT_EQ(args.WordInt(1, "DELTA", -1000, 1000), -50);
}

TEST(ArgsTest, DoubleDashEndsFlags) {
  Args args = Args::Parse({"member", "--", "--odd-id"}, kSwitches);
  EXPECT_EQ(args.words(), (std::vector<std::string>{"--odd-id"}));
  EXPECT_TRUE(args.flags().empty());
}

TEST(ArgsTest, EmptyValueWithEquals) {
  Args args = Args::Parse({"award", "--reason="}, kSwitches);
  EXPECT_TRUE(args.Has("reason"));
  EXPECT_THROW(args.Required("reason"), UsageError);
  EXPECT_THROW(args.Required("actor"), UsageError);
}

TEST(ArgsTest, Mistakes) {
  EXPECT_THROW(Args::Parse({"history", "m1", "--limit"}, kSwitches), UsageError);
  EXPECT_THROW(Args::Parse({"history", "m1", "--limit", "--json"}, kSwitches), UsageError);
  EXPECT_THROW(Args::Parse({"balance", "--json=yes"}, kSwitches), UsageError);
  EXPECT_THROW(Args::Parse({"balance", "--key=a", "--key=b"}, kSwitches), UsageError);
  EXPECT_THROW(Args::Parse({"balance", "--=x"}, kSwitches), UsageError);
}

TEST(ArgsTest, ParseIntNamesTheArgument) {
  EXPECT_EQ(ParseInt("POINTS", "42", 1, 100), 42);
  EXPECT_EQ(ParseInt("DELTA", "+7", -10, 10), 7);
  EXPECT_EQ(ParseInt("DELTA", "-10", -10, 10), -10);
  for (const char* bad : {"", "ten", "1.5", "12abc", " 1", "+", "-", "99999999999999999999"}) {
    try {
      ParseInt("POINTS", bad, 1, 100);
      FAIL() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("POINTS: ", 0), 0u) << e.what();
    }
  }
  EXPECT_THROW(ParseInt("--limit", "0", 1, 1000), UsageError);
  EXPECT_THROW(ParseInt("--limit", "1001", 1, 1000), UsageError);
}

TEST(ArgsTest, GetIntUsesFallbackOnlyWhenAbsent) {
  Args args = Args::Parse({"demo", "--members=5", "--seed", "x"}, kSwitches);
  EXPECT_EQ(args.GetInt("members", 20, 1, 9999), 5);
  EXPECT_EQ(args.GetInt("purchases", 200, 0, 1000), 200);
  EXPECT_THROW(args.GetInt("seed", 1, 0, std::numeric_limits<int64_t>::max()), UsageError);
}

TEST(ArgsTest, ParseSeconds) {
  EXPECT_DOUBLE_EQ(ParseSeconds("--timeout", "10"), 10);
  EXPECT_DOUBLE_EQ(ParseSeconds("--timeout", "0.5"), 0.5);
  EXPECT_THROW(ParseSeconds("--timeout", "0"), UsageError);
  EXPECT_THROW(ParseSeconds("--timeout", "-1"), UsageError);
  EXPECT_THROW(ParseSeconds("--timeout", "soon"), UsageError);
  EXPECT_THROW(ParseSeconds("--timeout", "inf"), UsageError);
}

}  // namespace
}  // namespace loyalty::ctl
