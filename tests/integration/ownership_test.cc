// Two accrual instances of one program (cluster.instances=2): each reads only the input
// partitions it owns (p mod 2 = its index). Members are enrolled at the instance that owns
// their partition, murmur2(member_id) mod 4 as common/partitioning.h computes it; kcat
// publishes with the same partitioner, as a point-of-sale producer would.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/partitioning.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace loyalty::testing {
namespace {

constexpr int kPartitions = 4;  // the test brokers' topics (DevKafka)
constexpr int kMembers = 40;

std::string MemberId(int i) { return "own-" + std::to_string(i); }
int OwnerOfMember(const std::string& member_id) {
  return OwnerOf(PartitionOf(member_id, kPartitions), 2);
}

// The value of a sample line "name{labels} value" in Prometheus text; -1 if absent.
double Sample(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(OwnershipTest, EachInstanceReadsOnlyThePartitionsItOwns) {
  TempDir dir;
  DevKafka kafka{dir.Sub("kafka"), kPartitions};
  ServiceProcess first{
      "accrual", dir.Sub("i0"), kafka.bootstrap(), {"--cluster.instances=2", "--cluster.index=0"}};
  ServiceProcess second{
      "accrual", dir.Sub("i1"), kafka.bootstrap(), {"--cluster.instances=2", "--cluster.index=1"}};
  first.Start();
  second.Start();
  AccrualClient at0(first.grpc_address()), at1(second.grpc_address());
  AccrualClient* at[] = {&at0, &at1};

  int owned_by_first = 0;
  std::string lines;
  for (int i = 0; i < kMembers; ++i) {
    const std::string member = MemberId(i);
    const int owner = OwnerOfMember(member);
    owned_by_first += owner == 0;
    ASSERT_TRUE(at[owner]->Enroll(member, "+3806710000" + std::to_string(10 + i)).ok()) << member;
    lines += member + R"(|{"purchaseId":"op-)" + std::to_string(i) + R"(","memberId":")" + member +
             R"(","amountMinor":")" + std::to_string(10'000 * (i + 1)) + R"(","currency":"UAH"})" +
             "\n";
  }
  ASSERT_GT(owned_by_first, 0);
  ASSERT_LT(owned_by_first, kMembers) << "both instances own members";
  const std::string file = dir.Sub("purchases");
  std::ofstream(file) << lines;
  int code = 0;
  std::string out = RunShell("kcat -b " + kafka.bootstrap() +
                                 " -X topic.partitioner=murmur2_random -P -t loyalty.purchases.v1 "
                                 "-K '|' -l " +
                                 file + " 2>&1",
                             &code);
  ASSERT_EQ(code, 0) << out;

  // 1% of (i + 1) * 100.00 at the owner; the other instance never heard of the member.
  for (int i = 0; i < kMembers; ++i) {
    const std::string member = MemberId(i);
    const int owner = OwnerOfMember(member);
    v1::Balance balance;
    ASSERT_TRUE(Eventually([&] {
      return at[owner]->Balance(member, &balance).ok() && balance.available() == 100 * (i + 1);
    })) << member
        << " at instance " << owner << ": " << balance.ShortDebugString();
    EXPECT_FALSE(at[1 - owner]->Balance(member, &balance).ok()) << member;
  }
  // Every purchase reached the instance that knows its member, none the other one; each
  // reads lag of its own two partitions only.
  for (ServiceProcess* instance : {&first, &second}) {
    const int index = instance == &first ? 0 : 1;
    const int owned = index == 0 ? owned_by_first : kMembers - owned_by_first;
    std::string metrics;
    EXPECT_TRUE(Eventually([&] {
      metrics = HttpGet(instance->metrics_port(), "/metrics");
      return Sample(metrics, R"(accrual_purchases_total{member="true"})") == owned;
    })) << "instance "
        << index << " owns " << owned << "\n"
        << metrics;
    EXPECT_LE(Sample(metrics, R"(kafka_messages_dead_lettered_total{reason="unknown_member",)"
                              R"(topic="loyalty.purchases.v1"})"),
              0)
        << "a purchase of the other instance's member";
    for (int p = 0; p < kPartitions; ++p) {
      const std::string lag = R"(kafka_consumer_lag{partition=")" + std::to_string(p) +
                              R"(",topic="loyalty.purchases.v1"})";
      EXPECT_EQ(Sample(metrics, lag) >= 0, p % 2 == index) << "instance " << index << " " << lag;
    }
  }
}

TEST(OwnershipTest, AnIndexOutsideTheInstancesIsRefusedAtStart) {
  TempDir dir;
  DevKafka kafka{dir.Sub("kafka"), kPartitions};
  int code = 0;
  std::string out =
      RunShell(BinDir() + "/loyalty-accrual --data_dir=" + dir.Sub("bad") +
                   " --kafka.brokers=" + kafka.bootstrap() +
                   " --grpc.insecure=true --cluster.instances=2 --cluster.index=2 2>&1",
               &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("cluster.index: must be in 0..1"), std::string::npos) << out;
}

}  // namespace
}  // namespace loyalty::testing
