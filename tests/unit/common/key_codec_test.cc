#include "common/key_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace loyalty {
namespace {

TEST(KeyCodecTest, SignedNumbersSortNumerically) {
  std::vector<int64_t> values = {-5, 0, 7, -1'000'000'000'000, 42, INT64_MAX, INT64_MIN};
  std::vector<std::string> encoded;
  for (auto v : values) {
    std::string k;
    keys::AppendI64(k, v);
    encoded.push_back(k);
    EXPECT_EQ(keys::ReadI64(k), v);
  }
  std::sort(values.begin(), values.end());
  std::sort(encoded.begin(), encoded.end());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(keys::ReadI64(encoded[i]), values[i]);
}

TEST(KeyCodecTest, StringTuplesKeepTupleOrder) {
  // ("a", 2) < ("a\0", 1) < ("ab", 0): a plain concatenation would get this wrong.
  auto key = [](const std::string& s, uint64_t n) {
    std::string k;
    keys::AppendString(k, s);
    keys::AppendU64(k, n);
    return k;
  };
  EXPECT_LT(key("a", 2), key(std::string("a\0", 2), 1));
  EXPECT_LT(key(std::string("a\0", 2), 1), key("ab", 0));
  EXPECT_LT(key("a", UINT64_MAX), key("ab", 0));
}

TEST(KeyCodecTest, StringsRoundTripIncludingZeroBytes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string s(rng() % 12, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 4);  // many zero bytes
    std::string k;
    keys::AppendString(k, s);
    keys::AppendU64(k, 99);
    size_t pos = 0;
    std::string out;
    ASSERT_TRUE(keys::ReadString(k, pos, out));
    EXPECT_EQ(out, s);
    EXPECT_EQ(keys::ReadU64(k, pos), 99u);
  }
}

}  // namespace
}  // namespace loyalty
