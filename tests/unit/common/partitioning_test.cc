// The partition of a key: our murmur2 against librdkafka's murmur2 partitioner (which the
// services' producers use, and which the Java contract test ties to the Java client) and
// against Kafka's own test vectors; and the owner of a partition.
#include "common/partitioning.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <string>

#include "common/owner_router.h"

namespace loyalty {
namespace {

TEST(PartitioningTest, Murmur2IsKafkasOnItsTestVectors) {
  // Kafka's UtilsTest.testMurmur2, as signed Java ints.
  EXPECT_EQ(static_cast<int32_t>(Murmur2("21")), -973932308);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("foobar")), -790332482);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("a-little-bit-long-string")), -985981536);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("a-little-bit-longer-string")), -1486304829);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")),
            -58897971);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("abc")), 479470107);
}

TEST(PartitioningTest, PartitionOfIsLibrdkafkasMurmur2PartitionerForEveryKeyLength) {
  for (int32_t partitions : {1, 3, 4, 12, 64, 1000}) {
    for (int i = 0; i < 2000; ++i) {
      // Lengths 1..40 and every tail of a 4-byte word, bytes above 0x7f too.
      std::string key = "m-" + std::to_string(i * 7919);
      key.resize(1 + i % 40, static_cast<char>(0x80 + i % 100));
      const int32_t want = rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(),
                                                            partitions, nullptr, nullptr);
      ASSERT_EQ(PartitionOf(key, partitions), want) << key << " of " << partitions;
    }
  }
}

TEST(PartitioningTest, AnInstanceOwnsThePartitionsCongruentToItsIndex) {
  EXPECT_EQ(OwnerOf(0, 3), 0);
  EXPECT_EQ(OwnerOf(4, 3), 1);
  EXPECT_EQ(OwnerOf(11, 3), 2);
  EXPECT_EQ(OwnerOf(7, 1), 0);
}

TEST(PartitioningTest, ANewIdIsDrawnWhereItBelongs) {
  int counter = 0;
  auto make = [&] { return "id-" + std::to_string(counter++); };
  for (int32_t partitions : {2, 12, 64}) {
    for (const char* member : {"m-1", "alice", "m_01jd5x7k3m0q9x2c4v6b8n1r3t"}) {
      const std::string id = DrawIdBeside(member, partitions, make);
      EXPECT_EQ(PartitionOf(id, partitions), PartitionOf(member, partitions))
          << id << " beside " << member << " of " << partitions;
    }
  }
  // One partition: the first id drawn.
  counter = 0;
  EXPECT_EQ(DrawIdBeside("m-1", 1, make), "id-0");

  Placement placement{12, PartitionOwnership{3, 2}};
  for (int n = 0; n < 20; ++n) {
    const std::string id =
        DrawIdWhere(make, [&](std::string_view k) { return placement.OwnsKey(k); });
    EXPECT_EQ(OwnerOf(PartitionOf(id, 12), 3), 2) << id;
    EXPECT_EQ(placement.OwnerOfKey(id), 2) << id;
  }
  // Partitions not known yet: every key is this instance's.
  Placement unknown{0, PartitionOwnership{3, 1}};
  EXPECT_TRUE(unknown.OwnsKey("anything"));
  EXPECT_EQ(unknown.OwnerOfKey("anything"), 1);
}

TEST(PartitioningTest, AnAddressListIsSplitAtCommas) {
  EXPECT_EQ(SplitAddresses("a:1"), std::vector<std::string>{"a:1"});
  EXPECT_EQ(SplitAddresses(" a:1 , b:2,,c:3 "), (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_TRUE(SplitAddresses("").empty());
  EXPECT_TRUE(SplitAddresses(" , ").empty());
}

}  // namespace
}  // namespace loyalty
