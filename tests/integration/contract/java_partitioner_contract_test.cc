// The cross-language partitioning contract of DESIGN.md, on the real cluster: a Java
// producer (kafka-clients, default partitioner) publishing purchases keyed by member id puts
// every member on the partition that the C++ side computes with murmur2 (librdkafka's
// murmur2 partitioner, which common/kafka.cc's producer uses) and on which the services'
// own producer and kcat with docs/api.md's `-X topic.partitioner=murmur2_random` put it.
#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/kafka.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace loyalty::testing {
namespace {

constexpr int kPartitions = 4;
constexpr int kMembers = 200;
constexpr const char* kTopic = "loyalty.purchases.v1";

int32_t Murmur2Partition(const std::string& key) {
  // librdkafka's partitioner function reads only the key and the partition count.
  return rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), kPartitions, nullptr,
                                          nullptr);
}

int32_t CrcPartition(const std::string& key) {
  return rd_kafka_msg_partitioner_consistent(nullptr, key.data(), key.size(), kPartitions, nullptr,
                                             nullptr);
}

// key -> partition for the records whose value starts with `tag`, read back with kcat.
std::map<std::string, int> PartitionsOf(const std::string& bootstrap, const std::string& tag) {
  std::string out = RunShell("kcat -b " + bootstrap + " -C -t " + kTopic +
                             " -o beginning -e -q -f '%k %p %s\\n' 2>/dev/null");
  std::map<std::string, int> partitions;
  std::stringstream ss(out);
  std::string key, value;
  int partition = -1;
  while (ss >> key >> partition >> value) {
    if (value.rfind(tag, 0) == 0) partitions[key] = partition;
  }
  return partitions;
}

TEST(JavaPartitionerContractTest, JavaDefaultPartitionerAndCppMurmur2AgreeOnEveryMember) {
  ASSERT_FALSE(RealKafkaBootstrap().empty()) << "a realkafka test: LOYALTY_TEST_KAFKA=real";
  TempDir dir;
  DevKafka kafka(dir.Sub("kafka"), kPartitions);
  std::vector<std::string> members;
  for (int i = 0; i < kMembers; ++i) members.push_back("member-" + std::to_string(i * 7919));

  // The Java producer, compiled here from the source beside this test.
  int code = 0;
  std::string classpath = RunShell("bash " LOYALTY_SOURCE_DIR "/scripts/kafka.sh classpath", &code);
  ASSERT_EQ(code, 0) << classpath;
  while (!classpath.empty() && classpath.back() == '\n') classpath.pop_back();
  std::string classes = dir.Sub("classes");
  std::string javac = RunShell("javac -cp '" + classpath + "' -d " + classes + " " +
                                   CONTRACT_TEST_DIR "/JavaPurchaseProducer.java 2>&1",
                               &code);
  ASSERT_EQ(code, 0) << javac;
  std::string args;
  for (const auto& m : members) args += " " + m;
  std::string java =
      RunShell("java -Xmx128m -cp '" + classes + ":" + classpath + "' JavaPurchaseProducer " +
                   kafka.bootstrap() + " " + kTopic + args + " 2>" + dir.Sub("java.log"),
               &code);
  ASSERT_EQ(code, 0) << java;

  // The services' producer (common/kafka.cc) with the same keys.
  {
    auto producer = KafkaProducer::Create({kafka.bootstrap()});
    ASSERT_TRUE(producer.ok()) << producer.status().message();
    for (const auto& m : members) ASSERT_TRUE((*producer)->Produce(kTopic, m, "cpp").ok());
    ASSERT_TRUE((*producer)->Flush(30000));
  }
  // kcat as docs/api.md tells a person to publish by hand.
  std::string lines = dir.Sub("kcat-lines");
  {
    std::ofstream out(lines);
    for (const auto& m : members) out << m << "|kcat\n";
  }
  RunShell("kcat -b " + kafka.bootstrap() + " -X topic.partitioner=murmur2_random -P -t " + kTopic +
               " -K '|' -l " + lines,
           &code);
  ASSERT_EQ(code, 0);

  auto from_java = PartitionsOf(kafka.bootstrap(), "{");
  auto from_cpp = PartitionsOf(kafka.bootstrap(), "cpp");
  auto from_kcat = PartitionsOf(kafka.bootstrap(), "kcat");
  ASSERT_EQ(from_java.size(), members.size());
  ASSERT_EQ(from_cpp.size(), members.size());
  ASSERT_EQ(from_kcat.size(), members.size());
  std::set<int> used;
  int crc_differs = 0;
  for (const auto& m : members) {
    EXPECT_EQ(from_java[m], Murmur2Partition(m)) << m;
    EXPECT_EQ(from_cpp[m], from_java[m]) << m;
    EXPECT_EQ(from_kcat[m], from_java[m]) << m;
    used.insert(from_java[m]);
    if (CrcPartition(m) != from_java[m]) ++crc_differs;
  }
  // The members spread over every partition, so agreement is not all-on-partition-0.
  EXPECT_EQ(used.size(), static_cast<size_t>(kPartitions));
  // And the partitioner matters: kcat's default (CRC32) would move most members.
  EXPECT_GT(crc_differs, kMembers / 2);
}

}  // namespace
}  // namespace loyalty::testing
