#include "tools/loyaltyctl/args.h"

#include <gtest/gtest.h>

#include <functional>
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

// Every rejection names the flag first, like the service's errors name the field.
void ExpectUsageError(const std::function<void()>& parse, const std::string& prefix) {
  try {
    parse();
    ADD_FAILURE() << "accepted; expected an error starting with " << prefix;
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(prefix, 0), 0u) << e.what();
  }
}

constexpr int64_t k2026 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kHourMs = 3'600'000;

TEST(ParseTimeMsTest, IsoForms) {
  EXPECT_EQ(ParseTimeMs("--starts", "2026-01-01"), k2026);
  EXPECT_EQ(ParseTimeMs("--starts", "2026-01-01T00:00:00Z"), k2026);
  EXPECT_EQ(ParseTimeMs("--starts", "2026-01-01T09:30"), k2026 + 9 * kHourMs + 30 * 60'000);
  EXPECT_EQ(ParseTimeMs("--starts", "2026-01-01 09:30:15z"),
            k2026 + 9 * kHourMs + 30 * 60'000 + 15'000);
  EXPECT_EQ(ParseTimeMs("--starts", "2026-01-01T00:00:00.25Z"), k2026 + 250);
  EXPECT_EQ(ParseTimeMs("--starts", "2026-01-01T00:00:00.007"), k2026 + 7);
  // An offset east of UTC is earlier in UTC, west later.
  EXPECT_EQ(ParseTimeMs("--starts", "2026-01-01T09:30+02:00"), k2026 + 7 * kHourMs + 30 * 60'000);
  EXPECT_EQ(ParseTimeMs("--starts", "2026-01-01T00:00-0530"), k2026 + 5 * kHourMs + 30 * 60'000);
  EXPECT_EQ(ParseTimeMs("--starts", "2026-01-01T01:00:00+01:00"), k2026);
}

TEST(ParseTimeMsTest, CalendarRules) {
  EXPECT_EQ(ParseTimeMs("--ends", "2024-02-29"), 1'709'164'800'000);          // leap year
  EXPECT_EQ(ParseTimeMs("--ends", "2000-02-29T23:59:59Z"), 951'868'799'000);  // 400-year leap
  EXPECT_EQ(ParseTimeMs("--ends", "1969-12-31T23:00:00Z"), -kHourMs);
  for (const char* bad :
       {"2026-02-29", "2100-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00",
        "2026-01-01T24:00", "2026-01-01T10:60", "2026-01-01T10:00:60"}) {
    ExpectUsageError([&] { ParseTimeMs("--ends", bad); }, "--ends: ");
  }
}

TEST(ParseTimeMsTest, UnixMillisecondsAndMistakes) {
  EXPECT_EQ(ParseTimeMs("--starts", "1767225600000"), k2026);
  // Ten digits are seconds, which would otherwise silently mean January 1970.
  ExpectUsageError([] { ParseTimeMs("--starts", "1767225600"); }, "--starts: ");
  for (const char* bad :
       {"", "tomorrow", "2026-1-1", "2026/01/01", "2026-01-01T9:30", "2026-01-01T09",
        "2026-01-01T09:30Zjunk", "2026-01-01Z", "2026-01-01T09:30+2", "2026-01-01T09:30+24:00",
        "2026-01-01T09:30:00.1234", "2026-01-01T09:30:00.", "-5", "99999999999999999999"}) {
    ExpectUsageError([&] { ParseTimeMs("--starts", bad); }, "--starts: ");
  }
}

TEST(ParseListTest, SplitsAndTrims) {
  EXPECT_EQ(ParseList("--category", "coffee"), (std::vector<std::string>{"coffee"}));
  EXPECT_EQ(ParseList("--category", "coffee, tea ,cake"),
            (std::vector<std::string>{"coffee", "tea", "cake"}));
  EXPECT_TRUE(ParseList("--category", "").empty());
  for (const char* bad : {"a,,b", ",a", "a,", " , "}) {
    ExpectUsageError([&] { ParseList("--category", bad); }, "--category: ");
  }
}

TEST(ParseBasisPointsTest, FactorsPercentagesAndBasisPoints) {
  EXPECT_EQ(ParseBasisPoints("--value", "2x"), 20'000);
  EXPECT_EQ(ParseBasisPoints("--value", "1.5x"), 15'000);
  EXPECT_EQ(ParseBasisPoints("--value", "1.0001X"), 10'001);
  EXPECT_EQ(ParseBasisPoints("--value", "5%"), 500);
  EXPECT_EQ(ParseBasisPoints("--value", "2.5%"), 250);
  EXPECT_EQ(ParseBasisPoints("--value", "0.01%"), 1);
  EXPECT_EQ(ParseBasisPoints("--value", "20000"), 20'000);
  // Finer than a basis point, zero, negative and malformed values are refused, not rounded.
  for (const char* bad : {"1.00001x", "0.001%", "0x", "0%", "0", "-2x", "x", "%", "2.x", ".5x",
                          "2xx", "1e3", "two", "", "9999999999x"}) {
    ExpectUsageError([&] { ParseBasisPoints("--value", bad); }, "--value: ");
  }
}

TEST(ArgsTest, JoinSubcommandMovesTheFirstWord) {
  Args args = Args::Parse({"campaign", "--json", "show", "c1", "--all"}, {"json", "all"});
  args.JoinSubcommand();
  EXPECT_EQ(args.command(), "campaign show");
  EXPECT_EQ(args.words(), (std::vector<std::string>{"c1"}));
  EXPECT_TRUE(args.Has("all"));
  Args bare = Args::Parse({"campaign"}, kSwitches);
  EXPECT_THROW(bare.JoinSubcommand(), UsageError);
}

}  // namespace
}  // namespace loyalty::ctl
