// RecordCache: least recently used leave first, within the byte budget, and never a record
// whose last write is not durable yet.
#include "common/record_cache.h"

#include <gtest/gtest.h>

#include "loyalty/v1/accrual.pb.h"

namespace loyalty {
namespace {

v1::Member MemberNamed(const std::string& id) {
  v1::Member m;
  m.set_member_id(id);
  m.set_email(std::string(200, 'x') + "@example.com");
  return m;
}

int64_t Size(const std::string& id) { return static_cast<int64_t>(MemberNamed(id).ByteSizeLong()); }

// The budget of exactly n records like MemberNamed's.
int64_t BudgetOf(int n) {
  RecordCache<v1::Member> probe(1 << 30);
  probe.Insert("m0", MemberNamed("m0"), Size("m0"));
  return probe.stats().bytes * n;
}

TEST(RecordCacheTest, EvictsTheLeastRecentlyUsedBeyondTheBudget) {
  RecordCache<v1::Member> cache(BudgetOf(2));
  cache.Insert("m0", MemberNamed("m0"), Size("m0"));
  cache.Insert("m1", MemberNamed("m1"), Size("m1"));
  ASSERT_NE(cache.Find("m0"), nullptr);  // m1 is now the least recently used
  cache.Insert("m2", MemberNamed("m2"), Size("m2"));
  EXPECT_EQ(cache.stats().entries, 3);  // Insert never evicts: pointers stay valid
  cache.Trim(/*durable=*/0);
  EXPECT_EQ(cache.stats().entries, 2);
  EXPECT_EQ(cache.stats().evictions, 1);
  EXPECT_LE(cache.stats().bytes, cache.stats().max_bytes);
  EXPECT_EQ(cache.Find("m1"), nullptr);
  ASSERT_NE(cache.Find("m0"), nullptr);
  EXPECT_EQ(cache.Find("m0")->member_id(), "m0");
  EXPECT_NE(cache.Find("m2"), nullptr);
  EXPECT_EQ(cache.stats().hits, 4);
  EXPECT_EQ(cache.stats().misses, 1);
}

TEST(RecordCacheTest, KeepsARecordUntilItsWriteIsDurable) {
  RecordCache<v1::Member> cache(BudgetOf(1));
  cache.Insert("m0", MemberNamed("m0"), Size("m0"));
  cache.Peek("m0")->SerializeAsString();  // written: its cached size is current
  cache.Written("m0", /*ticket=*/7);
  cache.Insert("m1", MemberNamed("m1"), Size("m1"));
  cache.Trim(/*durable=*/6);  // m0 is the oldest, but its write is still in flight
  EXPECT_EQ(cache.stats().entries, 2);
  EXPECT_NE(cache.Find("m0"), nullptr);
  // Now m1 is the oldest and was never written: it goes, m0 stays.
  cache.Trim(/*durable=*/6);
  EXPECT_EQ(cache.Find("m1"), nullptr);
  EXPECT_NE(cache.Find("m0"), nullptr);
  cache.Insert("m2", MemberNamed("m2"), Size("m2"));
  cache.Peek("m2")->SerializeAsString();
  cache.Written("m2", 8);
  cache.Trim(/*durable=*/7);  // m0's write is durable: it may go, m2's not
  EXPECT_EQ(cache.Find("m0"), nullptr);
  EXPECT_NE(cache.Find("m2"), nullptr);
}

TEST(RecordCacheTest, AWriteThatGrowsARecordCountsItsNewSize) {
  RecordCache<v1::Member> cache(1 << 20);
  v1::Member& m = cache.Insert("m0", MemberNamed("m0"), Size("m0"));
  int64_t before = cache.stats().bytes;
  m.add_segments("s");
  m.SerializeAsString();
  cache.Written("m0", 1);  // a small change: the estimate stands
  EXPECT_EQ(cache.stats().bytes, before);
  for (int i = 0; i < 100; ++i) m.add_segments("segment-" + std::to_string(i));
  m.SerializeAsString();
  cache.Written("m0", 2);
  EXPECT_GT(cache.stats().bytes, before + 100 * 9);
}

TEST(RecordCacheTest, PutReplacesOrAddsAndEraseForgetsWithTheirBytes) {
  RecordCache<v1::Member> cache(1 << 20);
  cache.Put("m0", MemberNamed("m0"), Size("m0"));  // absent: added
  const int64_t one = cache.stats().bytes;
  v1::Member small;
  small.set_member_id("m0");
  cache.Put("m0", small, static_cast<int64_t>(small.ByteSizeLong()));  // replaced, re-measured
  EXPECT_EQ(cache.stats().entries, 1);
  EXPECT_LT(cache.stats().bytes, one);
  EXPECT_EQ(cache.Peek("m0")->email(), "");
  cache.Put("m1", MemberNamed("m1"), Size("m1"));
  cache.Erase("m0");
  cache.Erase("absent");
  EXPECT_EQ(cache.stats().entries, 1);
  EXPECT_EQ(cache.stats().bytes, one);
  EXPECT_EQ(cache.Peek("m0"), nullptr);
  EXPECT_EQ(cache.stats().hits + cache.stats().misses, 0) << "Peek counts no lookup";
  cache.Insert("m0", MemberNamed("m0"), Size("m0"));  // erased: may be inserted again
  EXPECT_EQ(cache.stats().entries, 2);
}

}  // namespace
}  // namespace loyalty
