// Broker faults of the 3-node real cluster in the middle of a stream of purchases into
// accrual, each ending in exact balances and exactly one distinct event per earning:
// - kill -9 of a partition leader (the feed's producer, accrual's consumer and its outbox
//   relay ride over the leader election on the two remaining brokers, min.insync.replicas=2);
// - a leader paused with SIGSTOP for longer than the clients' request timeout (30 s), so that
//   requests in flight to it time out and the cluster fences it, then continued;
// - the leader of an events partition down while the relay produces to it, and started
//   again (it catches up and rejoins the ISR) while the relay still produces.
// The feed's producer and the relay use common/kafka.cc's producer: acks=all, idempotent.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <random>
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

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kMembers = 200;
constexpr uint64_t kSeed = 20261202;
constexpr int kPartitions = 4;

std::string MemberId(int i) { return "fault-" + std::to_string(i); }

std::string KafkaScript(const std::string& args) {
  return "bash " LOYALTY_SOURCE_DIR "/scripts/kafka.sh " + args;
}

// Accrual on the real cluster, its members, and a stream of purchases with the points each
// member must end with.
class BrokerFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(RealKafkaBootstrap().empty()) << "a realkafka test: LOYALTY_TEST_KAFKA=real";
    kafka_ = std::make_unique<DevKafka>(dir_.Sub("kafka"), kPartitions);
    std::string config = dir_.Sub("accrual.yaml");
    std::ofstream(config) << "program:\n  tiers:\n    - {name: Bronze, earn_rate_bp: 100}\n";
    accrual_ = std::make_unique<ServiceProcess>("accrual", dir_.path(), kafka_->bootstrap(),
                                                std::vector<std::string>{"--config=" + config});
    accrual_->Start();
    client_ = std::make_unique<AccrualClient>(accrual_->grpc_address());
    for (int i = 0; i < kMembers; ++i) {
      char phone[32];
      std::snprintf(phone, sizeof phone, "+3806711%05d", i);
      ASSERT_TRUE(client_->Enroll(MemberId(i), phone).ok()) << i;
    }
  }

  void TearDown() override {
    if (publisher_.joinable()) publisher_.join();
    // A broker left down or paused would leave the following tests a 2-node cluster.
    if (paused_pid_ > 0) kill(paused_pid_, SIGCONT);
    if (down_node_ > 0) RunShell(KafkaScript("start-node " + std::to_string(down_node_)));
  }

  // Publishes `count` purchases at `per_second` from a thread of its own (the feed waits out
  // elections and pauses instead of giving up after the default 30 s).
  void StartStream(int count, int per_second) {
    std::mt19937_64 rng(kSeed);
    purchases_.resize(count);
    expected_.assign(kMembers, 0);
    for (int n = 0; n < count; ++n) {
      int member = static_cast<int>(rng() % kMembers);
      auto& p = purchases_[n];
      p.set_purchase_id("p-" + std::to_string(n));
      p.set_member_id(MemberId(member));
      p.set_amount_minor(100 + static_cast<int64_t>(rng() % 500'000));
      p.set_currency("UAH");
      int64_t points = accrual::BasePoints(p.amount_minor(), 100, 1);
      expected_[member] += points;
      total_expected_ += points;
    }
    publisher_ = std::jthread([this, per_second] {
      auto producer =
          KafkaProducer::Create({kafka_->bootstrap()}, {{"message.timeout.ms", "240000"}});
      if (!producer.ok()) return;
      // The pace starts once the producer has its idempotence id and the first record is in.
      auto start = std::chrono::steady_clock::now();
      for (size_t n = 0; n < purchases_.size(); ++n) {
        if (n == 1) {
          (*producer)->Flush(60'000);
          start = std::chrono::steady_clock::now();
        }
        const auto& p = purchases_[n];
        (*producer)->Produce(
            "loyalty.purchases.v1", p.member_id(), p.SerializeAsString(), {},
            [this](const DeliveryResult& r) { ++(r.delivered ? delivered_ : failed_); });
        if (n % 100 == 0) {
          (*producer)->Poll(0);
          std::this_thread::sleep_until(start + milliseconds(n * 1000 / per_second));
        }
      }
      (*producer)->Flush(300'000);
      published_ = true;
    });
  }

  int64_t TotalEarned() {
    int64_t total = 0;
    for (int i = 0; i < kMembers; ++i) {
      v1::Balance balance;
      if (!client_->Balance(MemberId(i), &balance).ok()) return -1;
      total += balance.lifetime_earned();
    }
    return total;
  }

  // Waits until some points and not all are applied: the fault comes mid-stream.
  int64_t WaitMidStream() {
    EXPECT_TRUE(Eventually([&] { return TotalEarned() > 0; }, seconds(120)))
        << accrual_->process().LogTail();
    int64_t applied = TotalEarned();
    EXPECT_LT(applied, total_expected_) << "the fault came after the stream; not mid-stream";
    return applied;
  }

  void KillNode(int node) {
    down_node_ = node;
    ASSERT_EQ(kill(RealKafkaNodePid(node), SIGKILL), 0);
  }
  void StartNodeAgain() {
    ASSERT_GT(down_node_, 0);
    RunShell(KafkaScript("start-node " + std::to_string(down_node_)));
    down_node_ = -1;
  }
  void WaitClusterWhole() {
    WaitTopicsReady(kafka_->bootstrap(), PlatformTopics(), kPartitions, seconds(180));
  }

  // The stream delivered, every balance exact, and one distinct PointsEarned per purchase
  // (a redelivered event carries the same event id; consumers drop it by that id).
  void ExpectExactOutcome() {
    if (publisher_.joinable()) publisher_.join();
    ASSERT_TRUE(published_);
    EXPECT_EQ(failed_.load(), 0);
    EXPECT_EQ(delivered_.load(), static_cast<int>(purchases_.size()));
    ASSERT_TRUE(Eventually([&] { return TotalEarned() == total_expected_; }, seconds(300)))
        << "earned " << TotalEarned() << " of " << total_expected_ << "\n"
        << accrual_->process().LogTail();
    std::this_thread::sleep_for(seconds(1));  // late duplicates had their chance
    for (int i = 0; i < kMembers; ++i) {
      v1::Balance balance;
      ASSERT_TRUE(client_->Balance(MemberId(i), &balance).ok());
      ASSERT_EQ(balance.lifetime_earned(), expected_[i]) << MemberId(i);
      ASSERT_EQ(balance.available(), expected_[i]) << MemberId(i);
    }

    auto consumer = KafkaConsumer::Create({kafka_->bootstrap()}, "broker-fault-reader");
    ASSERT_TRUE(consumer.ok());
    ASSERT_TRUE((*consumer)->AssignAll({"loyalty.events.v1"}, {}).ok());
    // Until every purchase's event is in (the relay may still be sending what timed out on
    // a lost leader), then a little longer for duplicates.
    std::unordered_map<std::string, std::string> earned_event_by_purchase;
    auto deadline = std::chrono::steady_clock::now() + seconds(240);
    bool complete = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!complete && earned_event_by_purchase.size() == purchases_.size()) {
        complete = true;
        deadline = std::chrono::steady_clock::now() + seconds(3);
      }
      auto message = (*consumer)->Poll(200);
      if (!message) continue;
      v1::LoyaltyEvent event;
      ASSERT_TRUE(event.ParseFromString(message->value));
      if (!event.has_points_earned()) continue;
      auto [it, inserted] =
          earned_event_by_purchase.emplace(event.points_earned().purchase_id(), event.event_id());
      ASSERT_TRUE(inserted || it->second == event.event_id())
          << "purchase " << it->first << " earned twice";
    }
    EXPECT_EQ(earned_event_by_purchase.size(), purchases_.size());
  }

  TempDir dir_;
  std::unique_ptr<DevKafka> kafka_;
  std::unique_ptr<ServiceProcess> accrual_;
  std::unique_ptr<AccrualClient> client_;
  std::vector<v1::PurchaseEvent> purchases_;
  std::vector<int64_t> expected_;
  int64_t total_expected_ = 0;
  std::jthread publisher_;
  std::atomic<int> delivered_{0};
  std::atomic<int> failed_{0};
  std::atomic<bool> published_{false};
  int down_node_ = -1;
  pid_t paused_pid_ = -1;
};

TEST_F(BrokerFaultTest, KillNineOfThePartitionLeaderMidStreamLosesNothing) {
  // The leader of partition 0 of the input topic; it leads some events partitions too.
  const int leader = PartitionLeader(kafka_->bootstrap(), "loyalty.purchases.v1", 0);
  ASSERT_GE(leader, 1);
  StartStream(20'000, 2'000);
  int64_t applied = WaitMidStream();
  KillNode(leader);
  std::printf("killed node %d with %lld of %lld points applied\n", leader,
              static_cast<long long>(applied), static_cast<long long>(total_expected_));
  // The stream goes on over the two remaining brokers; then the broker comes back.
  publisher_.join();
  ASSERT_TRUE(Eventually([&] { return TotalEarned() == total_expected_; }, seconds(300)))
      << "earned " << TotalEarned() << " of " << total_expected_;
  StartNodeAgain();
  WaitClusterWhole();
  ExpectExactOutcome();
}

TEST_F(BrokerFaultTest, LeaderPausedLongerThanTheRequestTimeoutLosesNothing) {
  const int leader = PartitionLeader(kafka_->bootstrap(), "loyalty.purchases.v1", 0);
  ASSERT_GE(leader, 1);
  StartStream(12'000, 200);  // a minute of purchases: before, during and after the pause
  int64_t applied = WaitMidStream();
  paused_pid_ = RealKafkaNodePid(leader);
  ASSERT_EQ(kill(paused_pid_, SIGSTOP), 0);
  std::printf("paused node %d with %lld of %lld points applied\n", leader,
              static_cast<long long>(applied), static_cast<long long>(total_expected_));
  // Longer than request.timeout.ms (30 s, librdkafka's default, which the services keep) and
  // than the broker session timeout (9 s): requests to it time out and it loses leadership.
  std::this_thread::sleep_for(seconds(40));
  int64_t during_pause = TotalEarned();
  EXPECT_GT(during_pause, applied) << "nothing applied while one broker was paused";
  ASSERT_EQ(kill(paused_pid_, SIGCONT), 0);
  paused_pid_ = -1;
  EXPECT_FALSE(published_) << "the stream ended before the broker was continued";
  WaitClusterWhole();  // it truncates to the new leaders' logs and rejoins the ISR
  ExpectExactOutcome();
}

TEST_F(BrokerFaultTest, RelayProducesWhileABrokerIsDownAndComesBack) {
  // The leader of an events partition: accrual's relay is producing to it when it goes.
  const int leader = PartitionLeader(kafka_->bootstrap(), "loyalty.events.v1", 0);
  ASSERT_GE(leader, 1);
  // Two and a half minutes of purchases: the election after a kill -9 waits out the broker
  // session timeout (9 s) and a slow machine adds to it; the broker must be back before the end.
  StartStream(30'000, 200);
  int64_t applied = WaitMidStream();
  KillNode(leader);
  std::printf("killed node %d with %lld of %lld points applied\n", leader,
              static_cast<long long>(applied), static_cast<long long>(total_expected_));
  EXPECT_TRUE(Eventually([&] { return TotalEarned() > applied; }, seconds(60)))
      << "nothing applied while one broker was down";
  EXPECT_FALSE(published_) << "the stream ended while the broker was down";
  StartNodeAgain();
  WaitClusterWhole();
  EXPECT_FALSE(published_) << "the broker was back only after the stream ended";
  ExpectExactOutcome();
}

}  // namespace
}  // namespace loyalty::testing
