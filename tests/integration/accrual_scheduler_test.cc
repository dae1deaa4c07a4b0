// The scheduler's work survives kill -9: purchase points pending through a 3-second return
// window are released exactly once each, however the kills fall around the release.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "common/kafka.h"
#include "loyalty/v1/purchases.pb.h"
#include "services/accrual/core/earning.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace loyalty::testing {
namespace {

constexpr int kMembers = 50;
constexpr int kPurchases = 2'000;

TEST(AccrualSchedulerTest, PendingPointsAreReleasedOnceAcrossKills) {
  TempDir dir;
  DevKafka kafka(dir.Sub("kafka"));
  std::string config = dir.Sub("accrual.yaml");
  std::ofstream(config) << "program:\n  return_window_seconds: 3\n  tiers:\n"
                           "    - {name: Bronze, earn_rate_bp: 100}\n";
  ServiceProcess accrual("accrual", dir.path(), kafka.bootstrap(), {"--config=" + config});
  accrual.Start();
  AccrualClient client(accrual.grpc_address());
  for (int i = 0; i < kMembers; ++i) {
    ASSERT_TRUE(
        client.Enroll("s" + std::to_string(i), "+38067100" + std::to_string(1000 + i)).ok());
  }
  // The purchases arrive over about four seconds, so releases go on for as long.
  std::mt19937_64 rng(7);
  std::map<std::string, int64_t> expected;
  std::map<std::string, int> purchases_of;
  std::vector<v1::PurchaseEvent> stream(kPurchases);
  for (int n = 0; n < kPurchases; ++n) {
    v1::PurchaseEvent& p = stream[n];
    p.set_purchase_id("sp-" + std::to_string(n));
    p.set_member_id("s" + std::to_string(rng() % kMembers));
    p.set_amount_minor(100 + static_cast<int64_t>(rng() % 100'000));
    p.set_currency("UAH");
    expected[p.member_id()] += accrual::BasePoints(p.amount_minor(), 100, 1);
    ++purchases_of[p.member_id()];
  }
  auto producer = KafkaProducer::Create({kafka.bootstrap()});
  ASSERT_TRUE(producer.ok());
  // A jthread joins on an early return too: a failed assertion cannot abort the test and
  // leave its child processes running.
  std::jthread publisher([&] {
    for (const auto& p : stream) {
      (*producer)->Produce("loyalty.purchases.v1", p.member_id(), p.SerializeAsString());
      (*producer)->Poll(0);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    (*producer)->Flush(30'000);
  });
  int64_t total = 0;
  for (auto& [m, points] : expected) total += points;

  auto sums = [&](int64_t* pending, int64_t* available) {
    *pending = *available = 0;
    for (int i = 0; i < kMembers; ++i) {
      v1::Balance b;
      if (!client.Balance("s" + std::to_string(i), &b).ok()) return false;
      *pending += b.pending();
      *available += b.available();
    }
    return true;
  };
  int64_t pending = 0, available = 0;
  // Kill as soon as releases begin, and once more while they go on.
  for (int crash = 0; crash < 2; ++crash) {
    ASSERT_TRUE(Eventually([&] { return sums(&pending, &available) && available > 0; },
                           std::chrono::seconds(60)))
        << accrual.process().LogTail();
    accrual.Kill9();
    std::printf("crash %d with %lld released of %lld\n", crash, static_cast<long long>(available),
                static_cast<long long>(total));
    EXPECT_LT(available, total) << "the kill came after every release";
    accrual.Start();
    client = AccrualClient(accrual.grpc_address());
    if (crash == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  }
  publisher.join();
  ASSERT_TRUE(Eventually([&] { return sums(&pending, &available) && available == total; },
                         std::chrono::seconds(60)))
      << "available " << available << " of " << total << ", pending " << pending;
  std::this_thread::sleep_for(std::chrono::seconds(2));  // any second release would show now
  ASSERT_TRUE(sums(&pending, &available));
  EXPECT_EQ(pending, 0);
  EXPECT_EQ(available, total);
  for (int i = 0; i < kMembers; ++i) {
    std::string member = "s" + std::to_string(i);
    v1::ListLedgerRequest request;
    request.set_member_id(member);
    request.set_page_size(1000);
    v1::ListLedgerResponse page;
    grpc::ClientContext context;
    ASSERT_TRUE(client.stub().ListLedger(&context, request, &page).ok());
    int releases = 0;
    for (const auto& e : page.entries()) releases += e.kind() == v1::LEDGER_KIND_PENDING_RELEASE;
    EXPECT_EQ(releases, purchases_of[member]) << member;
  }
}

}  // namespace
}  // namespace loyalty::testing
