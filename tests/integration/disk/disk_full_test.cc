// A full disk under a running accrual: it stops acknowledging (UNAVAILABLE, health
// NOT_SERVING, nothing consumed), loses nothing it acknowledged, and resumes by itself when
// space returns, with every balance exact (common/disk_guard.h).
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/kafka.h"
#include "loyalty/v1/purchases.pb.h"
#include "services/accrual/core/earning.h"
#include "tests/integration/accrual_client.h"
#include "tests/integration/disk/health_check.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

constexpr int kMembers = 20;
constexpr int64_t kDiskBytes = 48 << 20;
constexpr int64_t kMinFreeBytes = 8 << 20;

std::string MemberId(int i) { return "disk-" + std::to_string(i); }

class TmpfsMount {
 public:
  TmpfsMount(const std::string& path, int64_t bytes) : path_(path) {
    std::filesystem::create_directories(path);
    std::string options = "size=" + std::to_string(bytes);
    mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~TmpfsMount() {
    // Kept mounted with the test's directory for a look at RocksDB's LOG.
    if (mounted_ && !std::getenv("LOYALTY_KEEP_TEST_DIRS")) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

// Writes a file until the file system refuses it.
void FillUp(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  std::string chunk(1 << 16, 'x');
  while (out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()))) {
  }
}

grpc::Status Award(AccrualClient& client, int member, int n) {
  v1::AwardPointsRequest request;
  request.set_member_id(MemberId(member));
  request.set_points(10 + n % 7);
  request.set_reason("goodwill");
  request.set_idempotency_key("award-" + std::to_string(n));
  v1::LedgerEntry entry;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  return client.stub().AwardPoints(&context, request, &entry);
}

TEST(DiskFullTest, StopsAcknowledgingWhileFullAndResumesExactWhenSpaceReturns) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir dir;
  TmpfsMount disk(dir.Sub("disk"), kDiskBytes);
  // A container without CAP_SYS_ADMIN refuses mount even to root: that is the machine, not
  // the service, so the test says so instead of failing.
  if (!disk.mounted() && errno == EPERM) GTEST_SKIP() << "mount tmpfs: not permitted here";
  ASSERT_TRUE(disk.mounted()) << "mount tmpfs failed: " << std::strerror(errno);
  DevKafka kafka(dir.Sub("kafka"));
  std::string config = dir.Sub("accrual.yaml");
  std::ofstream(config) << "program:\n  tiers:\n    - {name: Bronze, earn_rate_bp: 100}\n";
  ServiceProcess accrual("accrual", dir.path(), kafka.bootstrap(),
                         {"--config=" + config, "--data_dir=" + dir.Sub("disk") + "/db",
                          "--store.disk_min_free_bytes=" + std::to_string(kMinFreeBytes)});
  accrual.Start();
  AccrualClient client(accrual.grpc_address());
  for (int i = 0; i < kMembers; ++i) {
    char phone[32];
    std::snprintf(phone, sizeof phone, "+3806711%05d", i);
    ASSERT_TRUE(client.Enroll(MemberId(i), phone).ok()) << i;
  }
  EXPECT_EQ(HealthStatus(accrual.grpc_address(), ""), 1);

  auto producer = KafkaProducer::Create({kafka.bootstrap()});
  ASSERT_TRUE(producer.ok());
  std::map<int, int64_t> expected;  // member -> points
  int purchases = 0;
  auto publish = [&](int count) {
    for (int k = 0; k < count; ++k, ++purchases) {
      v1::PurchaseEvent p;
      int member = purchases % kMembers;
      p.set_purchase_id("p-" + std::to_string(purchases));
      p.set_member_id(MemberId(member));
      p.set_amount_minor(10'000 + purchases % 977);
      p.set_currency("UAH");
      expected[member] += accrual::BasePoints(p.amount_minor(), 100, 1);
      (*producer)->Produce("loyalty.purchases.v1", p.member_id(), p.SerializeAsString());
    }
    (*producer)->Flush(10'000);
  };
  // Awards are retried with their idempotency key until acknowledged, as a client would.
  int awards = 0;
  std::map<int, bool> acknowledged;
  auto award = [&](int n) {
    grpc::Status s = Award(client, n % kMembers, n);
    if (s.ok() && !acknowledged[n]) {
      acknowledged[n] = true;
      expected[n % kMembers] += 10 + n % 7;
    }
    return s;
  };

  publish(500);
  for (; awards < 50; ++awards) ASSERT_TRUE(award(awards).ok()) << awards;

  // Fill the disk, then keep writing until the service notices.
  FillUp(dir.Sub("disk") + "/filler");
  std::vector<grpc::StatusCode> refusals;
  ASSERT_TRUE(Eventually(
      [&] {
        publish(50);
        grpc::Status s = award(awards++);
        if (!s.ok()) refusals.push_back(s.error_code());
        return HealthStatus(accrual.grpc_address(), "") == 2;
      },
      std::chrono::seconds(60)))
      << accrual.process().LogTail();
  EXPECT_FALSE(refusals.empty());
  // Waiting for space: health NOT_SERVING for the service's own name too, every method
  // UNAVAILABLE, and the gauge says why.
  EXPECT_EQ(HealthStatus(accrual.grpc_address(), "loyalty.v1.AccrualService"), 2);
  v1::Balance balance;
  grpc::Status read = client.Balance(MemberId(0), &balance);
  EXPECT_EQ(read.error_code(), grpc::StatusCode::UNAVAILABLE) << read.error_message();
  EXPECT_NE(read.error_message().find("disk"), std::string::npos) << read.error_message();
  EXPECT_NE(HttpGet(accrual.metrics_port(), "/metrics").find("loyalty_store_writable 0"),
            std::string::npos);
  publish(200);  // waits in Kafka meanwhile

  std::filesystem::remove(dir.Sub("disk") + "/filler");
  ASSERT_TRUE(Eventually([&] { return HealthStatus(accrual.grpc_address(), "") == 1; },
                         std::chrono::seconds(60)))
      << accrual.process().LogTail();
  for (int n = 0; n < awards; ++n) {
    if (acknowledged[n]) continue;
    ASSERT_TRUE(Eventually([&] { return award(n).ok(); }, std::chrono::seconds(30))) << n;
  }

  auto exact = [&] {
    for (int i = 0; i < kMembers; ++i) {
      if (!client.Balance(MemberId(i), &balance).ok()) return false;
      if (balance.available() + balance.pending() != expected[i]) return false;
    }
    return true;
  };
  EXPECT_TRUE(Eventually(exact, std::chrono::seconds(60))) << accrual.process().LogTail();
  for (int i = 0; i < kMembers; ++i) {
    ASSERT_TRUE(client.Balance(MemberId(i), &balance).ok());
    EXPECT_EQ(balance.available() + balance.pending(), expected[i]) << MemberId(i);
  }
}

}  // namespace
}  // namespace loyalty::testing
