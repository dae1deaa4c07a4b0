#include "tools/loyaltyctl/format.h"

#include <gtest/gtest.h>

#include <limits>
#include <sstream>

namespace loyalty::ctl {
namespace {

TEST(FormatTest, IsoUtc) {
  EXPECT_EQ(IsoUtc(1'767'225'600'000), "2026-01-01T00:00:00Z");
  EXPECT_EQ(IsoUtc(1'767'225'600'999), "2026-01-01T00:00:00Z");
  EXPECT_EQ(IsoUtc(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(IsoUtc(0), "-");
}

TEST(FormatTest, SignedAndMoney) {
  EXPECT_EQ(Signed(5), "+5");
  EXPECT_EQ(Signed(-5), "-5");
  EXPECT_EQ(Signed(0), "0");
  EXPECT_EQ(Money(12345, "UAH"), "123.45 UAH");
  EXPECT_EQ(Money(5, "UAH"), "0.05 UAH");
  EXPECT_EQ(Money(-150, ""), "-1.50");
  EXPECT_EQ(Money(std::numeric_limits<int64_t>::min(), ""), "-92233720368547758.08");
}

TEST(FormatTest, EnumNames) {
  EXPECT_EQ(KindName(v1::LEDGER_KIND_HOLD_EXPIRED), "hold_expired");
  EXPECT_EQ(StatusName(v1::MEMBER_STATUS_ERASED), "erased");
  EXPECT_EQ(StatusName(v1::HOLD_STATUS_CAPTURED), "captured");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::FAILED_PRECONDITION), "FAILED_PRECONDITION");
  EXPECT_EQ(GrpcCodeName(static_cast<grpc::StatusCode>(99)), "CODE_99");
}

TEST(FormatTest, TableAlignsByCharactersAndSkipsTrailingPadding) {
  Table table({{"NAME"}, {"POINTS", Table::kRight}, {"REASON"}});
  table.AddRow({"Олена", "5", "бонус"});
  table.AddRow({"bob", "1200", "x"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(),
            "NAME   POINTS  REASON\n"
            "Олена       5  бонус\n"
            "bob      1200  x\n");
}

TEST(FormatTest, FieldsHaveNoHeader) {
  Fields fields;
  fields.Add("member", "m1").Add("lifetime earned", "10");
  std::ostringstream out;
  fields.Print(out);
  EXPECT_EQ(out.str(),
            "member           m1\n"
            "lifetime earned  10\n");
}

}  // namespace
}  // namespace loyalty::ctl
