// kill -9 of a partition leader of the 3-node real cluster in the middle of a stream of
// purchases into accrual: the feed's producer (common/kafka.cc: acks=all, idempotent) and
// accrual's consumer and outbox relay ride over the leader election on the two remaining
// brokers (min.insync.replicas=2), the broker comes back, and the balances and events come
// out exact: no purchase lost, none counted twice, every earning exactly one distinct event.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <fstream>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/kafka.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/purchases.pb.h"
#include "services/accrual/core/earning.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace loyalty::testing {
namespace {

constexpr int kMembers = 200;
constexpr int kPurchases = 20'000;
constexpr uint64_t kSeed = 20261202;

std::string MemberId(int i) { return "leader-" + std::to_string(i); }

TEST(RealKafkaBrokerKillTest, KillNineOfThePartitionLeaderMidStreamLosesNothing) {
  ASSERT_FALSE(RealKafkaBootstrap().empty()) << "a realkafka test: LOYALTY_TEST_KAFKA=real";
  TempDir dir;
  DevKafka kafka(dir.Sub("kafka"));
  std::string config = dir.Sub("accrual.yaml");
  std::ofstream(config) << "program:\n  tiers:\n    - {name: Bronze, earn_rate_bp: 100}\n";
  ServiceProcess accrual("accrual", dir.path(), kafka.bootstrap(), {"--config=" + config});
  accrual.Start();
  AccrualClient client(accrual.grpc_address());
  for (int i = 0; i < kMembers; ++i) {
    char phone[32];
    std::snprintf(phone, sizeof phone, "+3806711%05d", i);
    ASSERT_TRUE(client.Enroll(MemberId(i), phone).ok()) << i;
  }

  std::mt19937_64 rng(kSeed);
  std::vector<v1::PurchaseEvent> purchases(kPurchases);
  std::vector<int64_t> expected(kMembers, 0);
  int64_t total_expected = 0;
  for (int n = 0; n < kPurchases; ++n) {
    int member = static_cast<int>(rng() % kMembers);
    auto& p = purchases[n];
    p.set_purchase_id("p-" + std::to_string(n));
    p.set_member_id(MemberId(member));
    p.set_amount_minor(100 + static_cast<int64_t>(rng() % 500'000));
    p.set_currency("UAH");
    int64_t points = accrual::BasePoints(p.amount_minor(), 100, 1);
    expected[member] += points;
    total_expected += points;
  }

  // The leader of partition 0 of the input topic; it leads some events partitions too.
  const int leader = PartitionLeader(kafka.bootstrap(), "loyalty.purchases.v1", 0);
  ASSERT_GE(leader, 1);
  const pid_t leader_pid = RealKafkaNodePid(leader);
  // A broker that cannot come back would leave the following tests a 2-node cluster.
  struct Restart {
    int node;
    ~Restart() {
      RunShell("bash " LOYALTY_SOURCE_DIR "/scripts/kafka.sh start-node " + std::to_string(node));
    }
  } restart{leader};

  // The feed waits out the election instead of giving up after the default 30 s.
  auto producer = KafkaProducer::Create({kafka.bootstrap()}, {{"message.timeout.ms", "180000"}});
  ASSERT_TRUE(producer.ok());
  std::atomic<int> delivered{0};
  std::atomic<int> failed{0};
  std::atomic<bool> published{false};
  std::jthread publisher([&] {
    for (int n = 0; n < kPurchases; ++n) {
      const auto& p = purchases[n];
      (*producer)->Produce("loyalty.purchases.v1", p.member_id(), p.SerializeAsString(), {},
                           [&](const DeliveryResult& r) { ++(r.delivered ? delivered : failed); });
      if (n % 500 == 0) (*producer)->Poll(0);
      if (n % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    (*producer)->Flush(240'000);
    published = true;
  });

  auto total_earned = [&] {
    int64_t total = 0;
    for (int i = 0; i < kMembers; ++i) {
      v1::Balance balance;
      if (!client.Balance(MemberId(i), &balance).ok()) return int64_t{-1};
      total += balance.lifetime_earned();
    }
    return total;
  };
  ASSERT_TRUE(Eventually([&] { return total_earned() > 0; }, std::chrono::seconds(120)))
      << accrual.process().LogTail();
  int64_t at_kill = total_earned();
  ASSERT_EQ(kill(leader_pid, SIGKILL), 0);
  std::printf("killed node %d (pid %d) with %lld of %lld points applied\n", leader,
              static_cast<int>(leader_pid), static_cast<long long>(at_kill),
              static_cast<long long>(total_expected));
  EXPECT_LT(at_kill, total_expected) << "the kill came after the stream; not mid-stream";

  // The stream goes on over the two remaining brokers.
  publisher.join();
  ASSERT_TRUE(published);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(delivered.load(), kPurchases);
  ASSERT_TRUE(
      Eventually([&] { return total_earned() == total_expected; }, std::chrono::seconds(300)))
      << "earned " << total_earned() << " of " << total_expected << "\n"
      << accrual.process().LogTail();

  // The broker comes back and catches up; the cluster is whole again for the next test.
  RunShell("bash " LOYALTY_SOURCE_DIR "/scripts/kafka.sh start-node " + std::to_string(leader));
  WaitTopicsReady(kafka.bootstrap(), PlatformTopics(), 4, std::chrono::seconds(180));
  std::this_thread::sleep_for(std::chrono::seconds(1));  // late duplicates had their chance

  for (int i = 0; i < kMembers; ++i) {
    v1::Balance balance;
    ASSERT_TRUE(client.Balance(MemberId(i), &balance).ok());
    ASSERT_EQ(balance.lifetime_earned(), expected[i]) << MemberId(i);
    ASSERT_EQ(balance.available(), expected[i]) << MemberId(i);
  }

  auto consumer = KafkaConsumer::Create({kafka.bootstrap()}, "leader-kill-reader");
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->AssignAll({"loyalty.events.v1"}, {}).ok());
  std::unordered_map<std::string, std::string> earned_event_by_purchase;
  auto idle_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - idle_since < std::chrono::seconds(5)) {
    auto message = (*consumer)->Poll(200);
    if (!message) continue;
    idle_since = std::chrono::steady_clock::now();
    v1::LoyaltyEvent event;
    ASSERT_TRUE(event.ParseFromString(message->value));
    if (!event.has_points_earned()) continue;
    auto [it, inserted] =
        earned_event_by_purchase.emplace(event.points_earned().purchase_id(), event.event_id());
    ASSERT_TRUE(inserted || it->second == event.event_id())
        << "purchase " << it->first << " earned twice";
  }
  EXPECT_EQ(earned_event_by_purchase.size(), static_cast<size_t>(kPurchases));
}

}  // namespace
}  // namespace loyalty::testing
