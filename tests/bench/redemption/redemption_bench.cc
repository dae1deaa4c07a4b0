// Redemptions per second and latency through the full saga across two real processes: the
// client calls loyalty-redemption's Redeem, which reserves stock, holds and captures points in
// loyalty-accrual over gRPC and issues a voucher, each step synced to its own RocksDB.
//   redemption_bench [--redemptions=20000] [--clients=32] [--members=1000]
// Also printed, because the machine is shared: the load average, and the CPU each process
// (client, redemption, accrual) spent per redemption while the redemptions ran.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/redemption/redemption_cluster.h"

namespace {

int64_t Flag(int argc, char** argv, const char* name, int64_t fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return std::atoll(argv[i] + prefix.size());
    }
  }
  return fallback;
}

// process_cpu_seconds_total from a service's /metrics.
double ServiceCpuSeconds(loyalty::testing::ServiceProcess& service) {
  std::istringstream body(loyalty::testing::HttpGet(service.metrics_port(), "/metrics"));
  for (std::string line; std::getline(body, line);) {
    if (line.rfind("process_cpu_seconds_total ", 0) == 0) return std::atof(line.c_str() + 26);
  }
  return 0;
}

double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string LoadAverage() {
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  char text[64];
  std::snprintf(text, sizeof text, "%.2f %.2f %.2f", load[0], load[1], load[2]);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace loyalty;
  using namespace loyalty::testing;
  const int64_t total = Flag(argc, argv, "redemptions", 20'000);
  const int clients = static_cast<int>(Flag(argc, argv, "clients", 32));
  const int members = static_cast<int>(Flag(argc, argv, "members", 1000));

  RedemptionCluster cluster;
  std::vector<std::string> ids;
  for (int i = 0; i < members; ++i) ids.push_back("bench-" + std::to_string(i));
  int64_t per_member = (total / members + 2) * 10;
  cluster.EarnByPurchase(ids, per_member);
  cluster.CreateGiftCard("bench-gc", 10, -1);

  std::atomic<int64_t> next{0}, errors{0};
  std::vector<std::vector<double>> latencies(clients);
  const std::string load_before = LoadAverage();
  const double cpu_client = OwnCpuSeconds();
  const double cpu_redemption = ServiceCpuSeconds(cluster.redemption());
  const double cpu_accrual = ServiceCpuSeconds(cluster.accrual());
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int64_t n = next++; n < total; n = next++) {
        v1::Redemption r;
        auto t0 = std::chrono::steady_clock::now();
        grpc::Status s =
            cluster.Redeem(ids[n % members], "bench-gc", 1, "bench-" + std::to_string(n), &r);
        auto t1 = std::chrono::steady_clock::now();
        if (!s.ok()) {
          if (errors++ < 5) std::fprintf(stderr, "error: %s\n", s.error_message().c_str());
          continue;
        }
        latencies[c].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double per = 1e6 / static_cast<double>(std::max<int64_t>(1, total));
  const double us_client = (OwnCpuSeconds() - cpu_client) * per;
  const double us_redemption = (ServiceCpuSeconds(cluster.redemption()) - cpu_redemption) * per;
  const double us_accrual = (ServiceCpuSeconds(cluster.accrual()) - cpu_accrual) * per;
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::printf("redemptions=%zu errors=%lld clients=%d members=%d seconds=%.2f\n", all.size(),
              static_cast<long long>(errors.load()), clients, members, seconds);
  std::printf("throughput=%.0f redemptions/s p50=%.2f ms p99=%.2f ms max=%.2f ms\n",
              static_cast<double>(all.size()) / seconds, pct(0.50), pct(0.99),
              all.empty() ? 0.0 : all.back());
  std::printf("cpu_us_per_redemption client=%.0f redemption=%.0f accrual=%.0f total=%.0f\n",
              us_client, us_redemption, us_accrual, us_client + us_redemption + us_accrual);
  std::printf("load_average before=%s after=%s\n", load_before.c_str(), LoadAverage().c_str());
  return errors.load() == 0 ? 0 : 1;
}
