// SweepDedupeRecords against a real store: old dedupe records go, recent ones stay, ones
// written before records carried a time are stamped and stay.
#include "common/retention.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/temp_dir.h"

namespace loyalty {
namespace {

TEST(RetentionTest, DedupeRecordsOlderThanTheRetentionGoAndUntimedOnesAreStamped) {
  constexpr int64_t kDay = 86'400'000;
  constexpr int64_t kNow = 1'800'000'000'000;
  testing::TempDir dir;
  auto store = Store::Open(dir.path(), {"dedupe"});
  ASSERT_TRUE(store.ok());
  (*store)->Commit([&](StagedWrite& w) {
    w.Put("dedupe", "old", DedupeRecord(kNow - 31 * kDay));
    w.Put("dedupe", "recent", DedupeRecord(kNow - kDay));
    w.Put("dedupe", "untimed", "");
  });
  EXPECT_EQ(SweepDedupeRecords(**store, "dedupe", kNow, 30 * kDay), 1);
  std::string value;
  EXPECT_FALSE((*store)->Get("dedupe", "old", &value));
  EXPECT_TRUE((*store)->Get("dedupe", "recent", &value));
  ASSERT_TRUE((*store)->Get("dedupe", "untimed", &value));
  EXPECT_EQ(value, DedupeRecord(kNow));
  // A retention period later the stamped one goes too.
  EXPECT_EQ(SweepDedupeRecords(**store, "dedupe", kNow + 31 * kDay, 30 * kDay), 2);
}

}  // namespace
}  // namespace loyalty
