// What the earning rules cost: the accrual core applies the same purchases (three lines
// each, 50 stores, 10 categories) in batches of 2,000 into a real synced RocksDB, once with
// no campaigns and every member in the base tier, once with 20 live campaigns and members
// spread over four tiers (paid memberships) and segments. In-process, so that the ratio is
// the rules' cost and nothing else; the end-to-end figure is accrual_bench's. The two runs
// alternate for a number of rounds and the fastest of each counts: other work on a shared
// machine only ever slows a run down, so the fastest is the least disturbed.
//
//   earning_rules_bench [--purchases=N] [--members=M] [--rounds=R]
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/outbox.h"
#include "common/store.h"
#include "services/accrual/core/accrual_core.h"
#include "services/accrual/input_decoder.h"
#include "tests/bench/bench_program.h"
#include "tests/support/temp_dir.h"

namespace loyalty::accrual {
namespace {

// The caller of the calls on the core (common/principal.h).
const Principal kTestCaller("spiffe://loyalty/admin/bench");

constexpr int kBatch = 2000;

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct Run {
  double seconds = 0;
  double cpu_seconds = 0;  // of every thread of the process, RocksDB's included
  int64_t points = 0;
  int64_t campaign_points = 0;
  int64_t events = 0;  // outbox records, all kinds
};

Run Apply(bool with_rules, int64_t purchases, int members) {
  testing::TempDir dir;
  auto store = Store::Open(dir.path(), AccrualColumnFamilies());
  if (!store.ok()) std::abort();
  Outbox outbox(**store);
  ManualClock clock;
  AccrualConfig config;  // the default four-tier ladder
  AccrualCore core(**store, outbox, clock, config);

  // Members, enrolled by 8 threads (their commits group).
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int m = t; m < members; m += 8) {
        v1::EnrollMemberRequest enroll;
        enroll.set_member_id("b" + std::to_string(m));
        char phone[24];
        std::snprintf(phone, sizeof phone, "+38050%07d", m);
        enroll.set_phone(phone);
        enroll.set_idempotency_key("e" + std::to_string(m));
        if (!core.EnrollMember(kTestCaller, enroll).ok()) std::abort();
        if (!with_rules) continue;
        if (*bench::BenchPaidTier(m) != '\0') {
          v1::PurchaseMembershipRequest paid;
          paid.set_member_id(enroll.member_id());
          paid.set_tier(bench::BenchPaidTier(m));
          paid.set_days(365);
          paid.set_idempotency_key("t" + std::to_string(m));
          if (!core.PurchaseMembership(kTestCaller, paid).ok()) std::abort();
        }
        if (bench::BenchInSegment(m)) {
          v1::SetMemberSegmentsRequest segments;
          segments.set_member_id(enroll.member_id());
          segments.add_segments("students");
          segments.set_idempotency_key("s" + std::to_string(m));
          if (!core.SetMemberSegments(kTestCaller, segments).ok()) std::abort();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  if (with_rules) {
    for (int i = 0; i < bench::kBenchCampaigns; ++i) {
      v1::CreateCampaignRequest create;
      *create.mutable_campaign() = bench::BenchCampaign(i, 50'000'000);
      create.set_actor("bench");
      create.set_idempotency_key("c" + std::to_string(i));
      if (!core.CreateCampaign(kTestCaller, create).ok()) std::abort();
    }
  }

  std::mt19937_64 rng(42);
  std::vector<InputMessage> all(purchases);
  for (int64_t n = 0; n < purchases; ++n) {
    v1::PurchaseEvent p;
    p.set_purchase_id("bp-" + std::to_string(n));
    p.set_member_id("b" + std::to_string(rng() % members));
    p.set_store_id("store-" + std::to_string(rng() % 50));
    p.set_currency("UAH");
    bench::AddBenchLines(p, rng);
    all[n].topic = kPurchasesTopic;
    all[n].partition = 0;
    all[n].offset = n;
    all[n].key = p.member_id();
    all[n].value = p.SerializeAsString();
  }

  Run run;
  std::string outbox_cursor;
  auto start = std::chrono::steady_clock::now();
  double cpu_start = ProcessCpuSeconds();
  for (int64_t from = 0; from < purchases; from += kBatch) {
    std::vector<InputMessage> batch(all.begin() + from,
                                    all.begin() + std::min<int64_t>(purchases, from + kBatch));
    BatchResult result = core.ApplyBatch(batch, DecodeCommand);
    run.points += result.points_earned;
    // Keep the outbox as small as the relay would: drop what this batch added.
    (*store)->Commit([&](StagedWrite& w) {
      (*store)->Scan(kOutboxCf, outbox_cursor, "", [&](std::string_view key, std::string_view) {
        w.Delete(kOutboxCf, key);
        ++run.events;
        outbox_cursor = std::string(key) + '\0';
        return true;
      });
    });
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.cpu_seconds = ProcessCpuSeconds() - cpu_start;
  v1::ListCampaignsResponse campaigns = core.ListCampaigns(true);
  for (const auto& c : campaigns.campaigns()) run.campaign_points += c.spent_points();
  return run;
}

int Main(int argc, char** argv) {
  int64_t purchases = 200'000;
  int members = 20'000;
  int rounds = 3;
  std::string only;  // "base" or "rules": one run only, for profiling
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--purchases=", 12) == 0)
      purchases = std::atoll(argv[i] + 12);
    else if (std::strncmp(argv[i], "--members=", 10) == 0)
      members = std::atoi(argv[i] + 10);
    else if (std::strncmp(argv[i], "--only=", 7) == 0)
      only = argv[i] + 7;
    else if (std::strncmp(argv[i], "--rounds=", 9) == 0)
      rounds = std::max(1, std::atoi(argv[i] + 9));
    else {
      std::fprintf(stderr,
                   "usage: earning_rules_bench [--purchases=N] [--members=M] [--rounds=R] "
                   "[--only=base|rules]\n");
      return 2;
    }
  }
  if (!only.empty()) {
    Run run = Apply(only == "rules", purchases, members);
    std::printf("%s: %.0f/s (%.1f us CPU each), %.2f events per purchase\n", only.c_str(),
                purchases / run.seconds, 1e6 * run.cpu_seconds / purchases,
                static_cast<double>(run.events) / purchases);
    return 0;
  }
  Run plain, rules;
  for (int round = 1; round <= rounds; ++round) {
    Run p = Apply(false, purchases, members);
    Run r = Apply(true, purchases, members);
    std::printf("round %d: base %.0f/s (%.1f us CPU each), rules %.0f/s (%.1f us CPU each)\n",
                round, purchases / p.seconds, 1e6 * p.cpu_seconds / purchases,
                purchases / r.seconds, 1e6 * r.cpu_seconds / purchases);
    if (round == 1 || p.seconds < plain.seconds) plain = p;
    if (round == 1 || r.seconds < rules.seconds) rules = r;
  }
  double plain_rate = purchases / plain.seconds;
  double rules_rate = purchases / rules.seconds;
  std::printf("\nfastest of %d rounds:\n\n", rounds);
  std::printf("| run | purchases/s | points | of which campaigns |\n|---|---|---|---|\n");
  std::printf("| base tier, no campaigns | %.0f | %" PRId64 " | 0 |\n", plain_rate, plain.points);
  std::printf("| 4 tiers, 20 live campaigns | %.0f | %" PRId64 " | %" PRId64 " |\n", rules_rate,
              rules.points, rules.campaign_points);
  std::printf("\nrules cost: %.1f%% of the throughput (limit 25%%)\n",
              100.0 * (1.0 - rules_rate / plain_rate));
  std::printf("CPU per purchase: %.1f us base, %.1f us with the rules (+%.1f%%)\n",
              1e6 * plain.cpu_seconds / purchases, 1e6 * rules.cpu_seconds / purchases,
              100.0 * (rules.cpu_seconds / plain.cpu_seconds - 1.0));
  if (rules.campaign_points <= 0) {
    std::fprintf(stderr, "no campaign points: the campaigns did not apply\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace loyalty::accrual

int main(int argc, char** argv) { return loyalty::accrual::Main(argc, argv); }
