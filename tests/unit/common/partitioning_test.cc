// The partition of a key: our murmur2 against librdkafka's murmur2 partitioner (which the
// services' producers use, and which the Java contract test ties to the Java client) and
// against Kafka's own test vectors; and the owner of a partition.
#include "common/partitioning.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <string>

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

}  // namespace
}  // namespace loyalty
