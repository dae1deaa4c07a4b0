// A data disk that fails writes (EIO) under a running accrual, armed and disarmed from
// outside while purchases stream in from Kafka and awards arrive over gRPC: it stops
// acknowledging (UNAVAILABLE, health NOT_SERVING, loyalty_store_writable 0), by the restart
// in place and not by dying, loses nothing it acknowledged, and resumes by itself once writes
// work again, with every balance exact (common/disk_guard.h). The faults come from
// tests/support/eio_inject.cc, preloaded into the service; no root needed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "common/kafka.h"
#include "loyalty/v1/purchases.pb.h"
#include "services/accrual/core/earning.h"
#include "tests/integration/accrual_client.h"
#include "tests/integration/disk/health_check.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace loyalty::testing {
namespace {

constexpr int kMembers = 20;
constexpr int kAwardThreads = 2;

// One arm, stop, disarm, resume: which calls fail, and when the fault comes.
struct Cycle {
  const char* what;
  const char* control;  // the control file's text (tests/support/eio_inject.cc)
  // Armed when the stand-in of the previous cycle has seen the disk work again and the
  // service is opening its store (RocksDB's recovery writes) or taking its first writes.
  bool during_restart;
};
constexpr Cycle kCycles[] = {
    {"every write fails, mid-stream", "all", false},
    {"only syncs fail (the write reached the page cache), mid-stream", "syncs", false},
    {"every write fails, armed again while the store opens", "all", true},
};

std::string MemberId(int i) { return "eio-" + std::to_string(i); }
int64_t AwardPoints(int n) { return 10 + n % 7; }

grpc::Status Award(AccrualClient& client, int n) {
  v1::AwardPointsRequest request;
  request.set_member_id(MemberId(n % kMembers));
  request.set_points(AwardPoints(n));
  request.set_reason("goodwill");
  request.set_idempotency_key("award-" + std::to_string(n));
  v1::LedgerEntry entry;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  return client.stub().AwardPoints(&context, request, &entry);
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Logged by the stand-in when it leaves for the real service (common/disk_guard.cc).
constexpr char kStarting[] = "the data directory takes writes again; starting";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// "" while the process runs; else how it ended. The restart in place keeps the pid (exec), so
// any end is a death the test must report: an abort inside RocksDB, say, instead of the
// restart path.
std::string Ended(ChildProcess& process) {
  if (!process.running()) return "not running";
  int status = process.Wait(std::chrono::milliseconds(0));
  if (status == -1) return "";
  if (WIFSIGNALED(status)) {
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// Awards from kAwardThreads threads until stopped; each thread owns the award numbers
// n = thread + kAwardThreads * k and remembers which were acknowledged.
class AwardStream {
 public:
  explicit AwardStream(const std::string& address) : client_(address) {
    for (int t = 0; t < kAwardThreads; ++t) {
      threads_.emplace_back([this, t] { Run(t); });
    }
  }
  ~AwardStream() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  int acknowledged() const { return acknowledged_count_; }
  int refused() const { return refused_count_; }
  // After Stop: every award number tried, and whether it was acknowledged.
  std::map<int, bool> Results() const {
    std::map<int, bool> all;
    for (const auto& mine : acked_) all.insert(mine.begin(), mine.end());
    return all;
  }

 private:
  void Run(int t) {
    for (int k = 0; !stop_; ++k) {
      int n = t + kAwardThreads * k;
      bool ok = Award(client_, n).ok();
      acked_[t][n] = ok;
      ++(ok ? acknowledged_count_ : refused_count_);
      if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  AccrualClient client_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acknowledged_count_{0};
  std::atomic<int> refused_count_{0};
  std::map<int, bool> acked_[kAwardThreads];  // each written by its own thread only
  std::vector<std::thread> threads_;
};

TEST(DiskEioTest, StopsAcknowledgingOnWriteErrorsAndResumesExactWhenTheyStop) {
  const std::string inject = BinDir() + "/libloyalty_eio_inject.so";
  ASSERT_TRUE(std::filesystem::exists(inject)) << inject << " not built";
  TempDir dir;
  // The directory must exist for the library to resolve it as /proc/self/fd shows paths.
  const std::string db = dir.Sub("accrual/db");
  std::filesystem::create_directories(db);
  const std::string control = dir.Sub("eio-armed");
  DevKafka kafka(dir.Sub("kafka"));
  std::string config = dir.Sub("accrual.yaml");
  std::ofstream(config) << "program:\n  tiers:\n    - {name: Bronze, earn_rate_bp: 100}\n";
  // No free-space floor: this test is about write errors, whatever the machine's disk holds.
  ServiceProcess accrual(
      "accrual", dir.path(), kafka.bootstrap(),
      {"--config=" + config, "--data_dir=" + db, "--store.disk_min_free_bytes=0"},
      {"LD_PRELOAD=" + inject, "EIO_INJECT_DIR=" + db, "EIO_INJECT_CONTROL=" + control});
  accrual.Start();
  const std::string log_path = accrual.process().log_path();
  AccrualClient client(accrual.grpc_address());
  for (int i = 0; i < kMembers; ++i) {
    char phone[32];
    std::snprintf(phone, sizeof phone, "+3806722%05d", i);
    ASSERT_TRUE(client.Enroll(MemberId(i), phone).ok()) << i;
  }
  ASSERT_EQ(HealthStatus(accrual.grpc_address(), ""), 1);

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

  // Where in the store's opening the last cycle's fault lands varies from run to run.
  const unsigned seed = std::random_device()();
  std::mt19937 random(seed);
  std::cout << "seed " << seed << "\n";
  SCOPED_TRACE("seed " + std::to_string(seed));
  AwardStream awards(accrual.grpc_address());
  size_t min_restarts = 0;
  size_t starts_before_disarm = 0;
  for (size_t cycle = 0; cycle < std::size(kCycles); ++cycle) {
    const Cycle& c = kCycles[cycle];
    SCOPED_TRACE("cycle " + std::to_string(cycle) + ": " + c.what);
    if (c.during_restart) {
      // The stand-in probes once a second; from "starting" to "ready" takes some 100 ms.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (Count(ReadAll(log_path), kStarting) <= starts_before_disarm &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      ASSERT_GT(Count(ReadAll(log_path), kStarting), starts_before_disarm);
      std::this_thread::sleep_for(std::chrono::milliseconds(random() % 150));
    } else {
      // Running and acknowledging before the fault.
      const int before = awards.acknowledged();
      publish(300);
      ASSERT_TRUE(Eventually([&] { return awards.acknowledged() >= before + 20; },
                             std::chrono::seconds(60)))
          << Ended(accrual.process()) << "\n"
          << accrual.process().LogTail();
    }
    ++min_restarts;  // the fault meets a service that opens or has opened its store

    // Renamed into place: the library must never read it half written ("" means every call).
    std::ofstream(control + ".new") << c.control << "\n";
    std::filesystem::rename(control + ".new", control);
    const int refused_before = awards.refused();
    std::string ended;
    ASSERT_TRUE(Eventually(
        [&] {
          publish(20);
          ended = Ended(accrual.process());
          return !ended.empty() || HealthStatus(accrual.grpc_address(), "") == 2;
        },
        std::chrono::seconds(60)))
        << accrual.process().LogTail();
    ASSERT_EQ(ended, "") << "the service died instead of restarting in place\n"
                         << accrual.process().LogTail(12000);
    if (!c.during_restart) {
      EXPECT_GT(awards.refused(), refused_before);
    }
    // Waiting for a disk that takes writes: NOT_SERVING for the service's own name too,
    // every method UNAVAILABLE saying why, the gauge 0; and it stays so while writes fail.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_EQ(HealthStatus(accrual.grpc_address(), ""), 2);
    EXPECT_EQ(HealthStatus(accrual.grpc_address(), "loyalty.v1.AccrualService"), 2);
    v1::Balance balance;
    grpc::Status read = client.Balance(MemberId(0), &balance);
    EXPECT_EQ(read.error_code(), grpc::StatusCode::UNAVAILABLE) << read.error_message();
    EXPECT_NE(read.error_message().find("Input/output error"), std::string::npos)
        << read.error_message();
    EXPECT_NE(HttpGet(accrual.metrics_port(), "/metrics").find("loyalty_store_writable 0"),
              std::string::npos);
    // It got there by the restart path: a restart in place for each fault so far, or more (a
    // restart whose store open fails restarts again).
    std::string log = ReadAll(log_path);
    EXPECT_GE(Count(log, "restarting in place to recover from disk"), min_restarts);
    if (std::string(c.control) == "syncs") {
      // What failed was a sync; the write before it went through.
      auto at = log.rfind("a write to the data disk failed");
      ASSERT_NE(at, std::string::npos);
      std::string line = log.substr(at, log.find('\n', at) - at);
      EXPECT_NE(line.find("sync "), std::string::npos) << line;
    }
    publish(100);  // waits in Kafka meanwhile

    starts_before_disarm = Count(ReadAll(log_path), kStarting);
    std::filesystem::remove(control);
    // The next cycle may arm before the service is back.
    if (cycle + 1 < std::size(kCycles) && kCycles[cycle + 1].during_restart) continue;
    ASSERT_TRUE(Eventually(
        [&] {
          ended = Ended(accrual.process());
          return !ended.empty() || HealthStatus(accrual.grpc_address(), "") == 1;
        },
        std::chrono::seconds(60)))
        << accrual.process().LogTail();
    ASSERT_EQ(ended, "") << accrual.process().LogTail(12000);
  }
  awards.Stop();

  // Unacknowledged awards are retried with their idempotency key until acknowledged, as a
  // client would: each counts once, whether or not its first try reached the disk.
  for (const auto& [n, ok] : awards.Results()) {
    if (!ok) {
      ASSERT_TRUE(Eventually([&] { return Award(client, n).ok(); }, std::chrono::seconds(30))) << n;
    }
    expected[n % kMembers] += AwardPoints(n);
  }
  v1::Balance balance;
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
  EXPECT_EQ(Ended(accrual.process()), "");
  // What the faults hit, for a reader of the test's output.
  std::string log = ReadAll(log_path);
  std::cout << "restarts in place: " << Count(log, "restarting in place to recover from disk")
            << ", injected failures noted: " << Count(log, "eio_inject: ")
            << ", awards acknowledged/refused: " << awards.acknowledged() << "/" << awards.refused()
            << ", purchases: " << purchases << "\n";
}

}  // namespace
}  // namespace loyalty::testing
