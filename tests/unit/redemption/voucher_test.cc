// Voucher codes (format, check character, forgiving input) and their use at the till:
// exactly once even when the till retries, refused elsewhere, after expiry or cancellation.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "services/redemption/core/voucher_code.h"
#include "tests/support/test_caller.h"
#include "tests/unit/redemption/test_env.h"

namespace loyalty::redemption {
namespace {

uint64_t Seeded() {
  static std::mt19937_64 rng(20260101);
  return rng();
}

TEST(VoucherCodeTest, FormatIsFourGroupsOfCrockfordWithoutAmbiguousLetters) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    std::string code = NewVoucherCode(Seeded);
    ASSERT_EQ(code.size(), 19u) << code;
    for (size_t j = 0; j < code.size(); ++j) {
      if (j % 5 == 4) {
        ASSERT_EQ(code[j], '-') << code;
      } else {
        ASSERT_EQ(std::string("ILOU").find(code[j]), std::string::npos) << code;
      }
    }
    auto normalized = NormalizeVoucherCode(code);
    ASSERT_TRUE(normalized.ok()) << code;
    EXPECT_EQ(*normalized, code);
    seen.insert(code);
  }
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(VoucherCodeTest, TypedFormsAreForgivenAndEveryTypoIsCaught) {
  std::string code = NewVoucherCode(Seeded);
  std::string typed;
  for (char c : code) {
    if (c == '-') continue;
    char lower = static_cast<char>(std::tolower(c));
    typed.push_back(c == '0' ? 'o' : c == '1' ? 'l' : lower);
  }
  auto normalized = NormalizeVoucherCode(" " + typed + " ");
  ASSERT_TRUE(normalized.ok()) << normalized.status().ToString();
  EXPECT_EQ(*normalized, code);

  const std::string alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string raw;
  for (char c : code)
    if (c != '-') raw.push_back(c);
  for (size_t i = 0; i < raw.size(); ++i) {
    for (char c : alphabet) {
      if (c == raw[i]) continue;
      std::string typo = raw;
      typo[i] = c;
      auto result = NormalizeVoucherCode(typo);
      ASSERT_FALSE(result.ok()) << typo;
      EXPECT_EQ(result.status().message().rfind("code:", 0), 0u);
    }
    if (i + 1 < raw.size() && raw[i] != raw[i + 1]) {
      std::string swapped = raw;
      std::swap(swapped[i], swapped[i + 1]);
      EXPECT_FALSE(NormalizeVoucherCode(swapped).ok()) << swapped;
    }
  }
  EXPECT_FALSE(NormalizeVoucherCode("").ok());
  EXPECT_FALSE(NormalizeVoucherCode("ABCD-EFGH").ok());
  EXPECT_FALSE(NormalizeVoucherCode("UUUU-UUUU-UUUU-UUUU").ok());
}

class VoucherUseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env.accrual.AddMember("m1", 10'000);
    auto reward = RedemptionTestEnv::GiftCard("gc", 100, -1);
    reward.add_store_ids("kyiv-01");
    reward.add_store_ids("kyiv-02");
    reward.set_voucher_validity_days(10);
    env.CreateReward(reward);
    auto r = env.Redeem("m1", "gc", 1, "k1");
    ASSERT_TRUE(r.ok());
    code = r->vouchers(0).code();
  }
  StatusOr<v1::Voucher> Use(const std::string& typed, const std::string& store,
                            const std::string& key) {
    v1::UseVoucherRequest use;
    use.set_code(typed);
    use.set_store_id(store);
    use.set_idempotency_key(key);
    return env.core->UseVoucher(kTestCaller, use);
  }
  RedemptionTestEnv env;
  std::string code;
};

TEST_F(VoucherUseTest, ValidateSaysWhatItGivesAndWhere) {
  v1::ValidateVoucherRequest validate;
  validate.set_code(code);
  validate.set_store_id("kyiv-01");
  auto ok = env.core->ValidateVoucher(validate);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->usable());
  EXPECT_EQ(ok->reward().gift_card().value_minor(), 10000);
  validate.set_store_id("lviv-01");
  auto elsewhere = env.core->ValidateVoucher(validate);
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_FALSE(elsewhere->usable());
  EXPECT_NE(elsewhere->reason().find("lviv-01"), std::string::npos);
}

TEST_F(VoucherUseTest, UsedExactlyOnceEvenWhenTheTillRetries) {
  auto first = Use(code, "kyiv-01", "till-1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->status(), v1::VOUCHER_STATUS_USED);
  std::string lower = code;
  for (auto& c : lower) c = static_cast<char>(std::tolower(c));
  auto retry = Use(lower, "kyiv-01", "till-1");  // same call, typed differently
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(retry->used_at_ms(), first->used_at_ms());
  auto again = Use(code, "kyiv-02", "till-2");
  EXPECT_EQ(again.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(again.status().message().rfind("code: voucher already used", 0), 0u);
  int used_events = 0;
  for (const auto& e : env.Events()) used_events += e.has_voucher_used();
  EXPECT_EQ(used_events, 1);
  env.Restart();
  EXPECT_EQ(Use(code, "kyiv-02", "till-3").status().code(), Code::kFailedPrecondition);
}

TEST_F(VoucherUseTest, RefusedAtAnotherStoreAfterExpiryAndForUnknownCodes) {
  auto elsewhere = Use(code, "lviv-01", "t1");
  EXPECT_EQ(elsewhere.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(elsewhere.status().message().rfind("store_id:", 0), 0u);
  EXPECT_EQ(Use(code, "", "t2").status().message().rfind("store_id:", 0), 0u);
  EXPECT_EQ(Use(NewVoucherCode(Seeded), "kyiv-01", "t3").status().code(), Code::kNotFound);
  env.clock.Advance(10 * kDayMs);
  auto expired = Use(code, "kyiv-01", "t4");
  EXPECT_EQ(expired.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos);
}

}  // namespace
}  // namespace loyalty::redemption
