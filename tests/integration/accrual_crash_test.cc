// kill -9 of accrual in the middle of a stream of 100,000 purchases (with duplicates and
// refunds), twice; after each restart the totals must come out exact: no purchase lost, none
// counted twice, and every earning published as exactly one distinct event.
#include <gtest/gtest.h>

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

constexpr int kMembers = 500;
constexpr int kPurchases = 100'000;
constexpr int kDuplicateEvery = 50;  // every 50th purchase is published twice
constexpr int kRefundEvery = 40;     // every 40th purchase is fully refunded
constexpr int kPerSecond = 3'000;    // the feed's pace: the stream lasts about 33 s
constexpr uint64_t kSeed = 20261125;

std::string MemberId(int i) { return "crash-" + std::to_string(i); }

struct Expected {
  std::vector<int64_t> earned = std::vector<int64_t>(kMembers, 0);
  std::vector<int64_t> clawed = std::vector<int64_t>(kMembers, 0);
  int refunds = 0;
};

TEST(AccrualCrashTest, KillNineMidStreamLosesNothingAndCountsNothingTwice) {
  TempDir dir;
  DevKafka kafka(dir.Sub("kafka"));
  // One tier, so that the expectation is the plain 1%: tier upgrades are tested elsewhere.
  std::string config = dir.Sub("accrual.yaml");
  std::ofstream(config) << "program:\n  tiers:\n    - {name: Bronze, earn_rate_bp: 100}\n";
  ServiceProcess accrual("accrual", dir.path(), kafka.bootstrap(), {"--config=" + config});
  accrual.Start();
  AccrualClient client(accrual.grpc_address());
  for (int i = 0; i < kMembers; ++i) {
    char phone[32];
    std::snprintf(phone, sizeof phone, "+3806700%05d", i);
    ASSERT_TRUE(client.Enroll(MemberId(i), phone).ok()) << i;
  }

  // The stream, computed up front so the expectation is independent of the service.
  std::mt19937_64 rng(kSeed);
  std::vector<v1::PurchaseEvent> purchases(kPurchases);
  Expected expected;
  for (int n = 0; n < kPurchases; ++n) {
    int member = static_cast<int>(rng() % kMembers);
    auto& p = purchases[n];
    p.set_purchase_id("p-" + std::to_string(n));
    p.set_member_id(MemberId(member));
    p.set_amount_minor(100 + static_cast<int64_t>(rng() % 500'000));
    p.set_currency("UAH");
    int64_t points = accrual::BasePoints(p.amount_minor(), 100, 1);
    expected.earned[member] += points;
    if (n % kRefundEvery == 0) {
      expected.clawed[member] += points;
      ++expected.refunds;
    }
  }

  auto producer = KafkaProducer::Create({kafka.bootstrap()});
  ASSERT_TRUE(producer.ok());
  std::atomic<bool> published{false};
  // A jthread joins on an early return too: a failed assertion cannot abort the test and
  // leave its child processes running.
  std::jthread publisher([&] {
    auto start = std::chrono::steady_clock::now();
    for (int n = 0; n < kPurchases; ++n) {
      const auto& p = purchases[n];
      std::string bytes = p.SerializeAsString();
      (*producer)->Produce("loyalty.purchases.v1", p.member_id(), bytes);
      if (n % kDuplicateEvery == 0) {
        (*producer)->Produce("loyalty.purchases.v1", p.member_id(), bytes);
      }
      if (n % kRefundEvery == 0) {
        v1::RefundEvent refund;
        refund.set_refund_id("r-" + std::to_string(n));
        refund.set_purchase_id(p.purchase_id());
        refund.set_member_id(p.member_id());
        refund.set_amount_minor(p.amount_minor());
        (*producer)->Produce("loyalty.refunds.v1", p.member_id(), refund.SerializeAsString());
      }
      // The pace starts once the first records are in: an idempotent producer on a fresh
      // real cluster may wait seconds for its producer id, and would then send everything
      // queued meanwhile at once, ending the stream before the second kill.
      if (n == 0) {
        (*producer)->Flush(60'000);
        start = std::chrono::steady_clock::now();
      }
      // A wall-clock pace of kPerSecond, so that the stream lasts about half a minute on any
      // machine: long enough for two kills and restarts in the middle however fast accrual is.
      if (n % 100 == 0) {
        (*producer)->Poll(0);
        std::this_thread::sleep_until(start +
                                      std::chrono::microseconds(n * 1'000'000LL / kPerSecond));
      }
    }
    (*producer)->Flush(60'000);
    published = true;
  });

  int64_t total_expected = 0;
  for (auto e : expected.earned) total_expected += e;
  auto total_earned = [&] {
    int64_t total = 0;
    for (int i = 0; i < kMembers; ++i) {
      v1::Balance balance;
      if (!client.Balance(MemberId(i), &balance).ok()) return int64_t{-1};
      total += balance.lifetime_earned();
    }
    return total;
  };

  // Kill twice while the stream is being applied: after some progress, before the end.
  for (int crash = 0; crash < 2; ++crash) {
    int64_t before = total_earned();
    ASSERT_TRUE(Eventually([&] { return total_earned() > before; }, std::chrono::seconds(120)))
        << "no progress from " << before << " of " << total_expected << " points\n"
        << accrual.process().LogTail();
    int64_t at_kill = total_earned();
    accrual.Kill9();
    std::printf("crash %d: killed with %lld of %lld points applied\n", crash,
                static_cast<long long>(at_kill), static_cast<long long>(total_expected));
    EXPECT_LT(at_kill, total_expected) << "the kill came after the stream; not a mid-stream crash";
    accrual.Start();
    client = AccrualClient(accrual.grpc_address());
  }

  publisher.join();
  ASSERT_TRUE(published);
  ASSERT_TRUE(
      Eventually([&] { return total_earned() == total_expected; }, std::chrono::seconds(300)))
      << "earned " << total_earned() << " of " << total_expected << "\n"
      << accrual.process().LogTail();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // late duplicates had their chance

  for (int i = 0; i < kMembers; ++i) {
    v1::Balance balance;
    ASSERT_TRUE(client.Balance(MemberId(i), &balance).ok());
    ASSERT_EQ(balance.lifetime_earned(), expected.earned[i]) << MemberId(i);
    ASSERT_EQ(balance.lifetime_clawed_back(), expected.clawed[i]) << MemberId(i);
    ASSERT_EQ(balance.available(), expected.earned[i] - expected.clawed[i]) << MemberId(i);
    ASSERT_EQ(balance.debt(), 0);
  }

  // The events: one distinct event per earning and per refund, whatever was republished.
  auto consumer = KafkaConsumer::Create({kafka.bootstrap()}, "crash-test-reader");
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->AssignAll({"loyalty.events.v1"}, {}).ok());
  std::unordered_map<std::string, std::string> earned_event_by_purchase;
  std::set<std::string> reversed_events;
  std::set<std::string> event_ids;
  int64_t raw_messages = 0;
  auto idle_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - idle_since < std::chrono::seconds(5)) {
    auto message = (*consumer)->Poll(200);
    if (!message) continue;
    idle_since = std::chrono::steady_clock::now();
    ++raw_messages;
    v1::LoyaltyEvent event;
    ASSERT_TRUE(event.ParseFromString(message->value));
    event_ids.insert(event.event_id());
    if (event.has_points_earned()) {
      auto [it, inserted] =
          earned_event_by_purchase.emplace(event.points_earned().purchase_id(), event.event_id());
      ASSERT_TRUE(inserted || it->second == event.event_id())
          << "purchase " << it->first << " earned twice: " << it->second << " and "
          << event.event_id();
    }
    if (event.has_points_reversed()) reversed_events.insert(event.event_id());
  }
  EXPECT_EQ(earned_event_by_purchase.size(), static_cast<size_t>(kPurchases));
  EXPECT_EQ(reversed_events.size(), static_cast<size_t>(expected.refunds));
  std::printf("events: %lld messages, %zu distinct\n", static_cast<long long>(raw_messages),
              event_ids.size());
}

}  // namespace
}  // namespace loyalty::testing
