// accrual_bench: how fast loyalty-accrual durably applies purchases, end to end.
//
// (a) Starts the dev broker and the real loyalty-accrual (child processes, temp dir).
// (b) Enrolls M members over gRPC with many calls in flight (accrual group-commits them).
// (c) Publishes N seeded purchases to loyalty.purchases.v1 as fast as possible (or at --rate),
//     reads loyalty.events.v1 meanwhile and times every purchase from publish to its
//     PointsEarned event (published only after the batch is durable), and scrapes /metrics
//     every 100 ms for the durable count (accrual_purchases_total). Afterwards every balance
//     is read over gRPC.
// (d) With the service stopped: the real AccrualCore applies the same stream in this process
//     (a Store without fsync, batches of --batch, no Kafka, gRPC or relay). Its balances must
//     equal the service's, one by one. Its WAL is read back: the exact write stream of the
//     core. The RocksDB floor replays that stream into a fresh Store (same options and column
//     families), one synced Store::Commit per batch, with nothing else to do; a second pass
//     adds the relay's synced outbox deletes after each batch.
//
// Full run (docs/benchmarks.md): accrual_bench --purchases=1000000 --members=100000
#include <grpcpp/grpcpp.h>
#include <rocksdb/transaction_log.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/kafka.h"
#include "common/key_codec.h"
#include "common/outbox.h"
#include "common/store.h"
#include "loyalty/v1/accrual.grpc.pb.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/purchases.pb.h"
#include "services/accrual/core/accrual_config.h"
#include "services/accrual/core/accrual_core.h"
#include "services/accrual/input_decoder.h"
#include "tests/bench/bench_program.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::bench {
namespace {

// The caller of the calls on the core (common/principal.h).
const Principal kTestCaller("spiffe://loyalty/admin/bench");

using SteadyClock = std::chrono::steady_clock;
using testing::HttpGet;

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  int64_t purchases = 1'000'000;
  int members = 100'000;
  int partitions = 4;
  int batch = 2000;   // accrual's --kafka.max_batch and the in-process reference's batch
  double rate = 0;    // purchases/s to publish at; 0: as fast as possible
  int inflight = 32;  // concurrent gRPC calls for enrollment and the balance check
  uint64_t seed = 20261201;
  int stall_seconds = 120;    // give up if nothing is applied for this long
  bool floor_deletes = true;  // also measure the floor with the relay's outbox deletes
  // The earning rules (issue 3): 20 live campaigns, members in four tiers and a segment
  // (tests/bench/bench_program.h). Implies --lines.
  bool rules = false;
  bool lines = false;  // purchases of three lines with categories (48 -> about 110 bytes)
  // Read loyalty.events.v1 for the end-to-end rate and latencies. Off: durable throughput
  // only. The dev broker keeps 5 MiB per partition, so a reader that falls further behind
  // the relay (larger events with --rules, a loaded machine) loses events and stalls.
  bool read_events = true;
  // Purchases published but not yet applied, at most; 0: 25,000 per partition. The dev
  // broker (librdkafka's mock) keeps only the last 5 MiB of each partition and a consumer
  // that falls further behind is reset past the messages it missed.
  int64_t max_backlog = 0;
  // Members per EnrollMembers call; 0: one EnrollMember call per member (as before issue 15).
  int enroll_batch = 0;
  // Off: no RocksDB floor, and the in-process reference keeps no WAL to replay (the floor
  // holds the whole write stream in memory: too much at 10M purchases).
  bool floor = true;
};

[[noreturn]] void Usage(const std::string& error) {
  std::fprintf(stderr,
               "%s\nusage: accrual_bench [--purchases=N] [--members=M] [--partitions=P] "
               "[--batch=B]\n"
               "                     [--rate=R] [--inflight=K] [--seed=S] [--stall_seconds=T]\n"
               "                     [--max_backlog=K] [--floor_deletes=true|false]\n"
               "                     [--rules=true|false] [--lines=true|false] "
               "[--read_events=true|false]\n"
               "                     [--enroll_batch=K] [--floor=true|false]\n",
               error.c_str());
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) Usage("bad argument: " + arg);
    std::string name = arg.substr(2, eq - 2), value = arg.substr(eq + 1);
    try {
      if (name == "purchases") {
        o.purchases = std::stoll(value);
      } else if (name == "members") {
        o.members = std::stoi(value);
      } else if (name == "partitions") {
        o.partitions = std::stoi(value);
      } else if (name == "batch") {
        o.batch = std::stoi(value);
      } else if (name == "rate") {
        o.rate = std::stod(value);
      } else if (name == "inflight") {
        o.inflight = std::stoi(value);
      } else if (name == "seed") {
        o.seed = std::stoull(value);
      } else if (name == "stall_seconds") {
        o.stall_seconds = std::stoi(value);
      } else if (name == "max_backlog") {
        o.max_backlog = std::stoll(value);
      } else if (name == "floor_deletes") {
        o.floor_deletes = value == "true" || value == "1";
      } else if (name == "rules") {
        o.rules = value == "true" || value == "1";
      } else if (name == "lines") {
        o.lines = value == "true" || value == "1";
      } else if (name == "read_events") {
        o.read_events = value == "true" || value == "1";
      } else if (name == "enroll_batch") {
        o.enroll_batch = std::stoi(value);
      } else if (name == "floor") {
        o.floor = value == "true" || value == "1";
      } else {
        Usage("unknown flag: --" + name);
      }
    } catch (const std::exception&) {
      Usage("bad value for --" + name + ": " + value);
    }
  }
  if (o.purchases <= 0 || o.members <= 0 || o.partitions <= 0 || o.batch <= 0 || o.inflight <= 0 ||
      o.rate < 0 || o.enroll_batch < 0 || o.enroll_batch > 1000) {
    Usage("every number must be positive (--enroll_batch at most 1000)");
  }
  if (o.max_backlog <= 0) o.max_backlog = 25'000LL * o.partitions;
  if (o.rules) o.lines = true;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Helpers

int64_t NowNs(SteadyClock::time_point epoch) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - epoch).count();
}

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

std::string MemberId(int i) { return "bm-" + std::to_string(i); }
std::string PurchaseId(int64_t n) { return "bp-" + std::to_string(n); }
std::string Phone(int i) {
  char phone[32];
  std::snprintf(phone, sizeof phone, "+38067%07d", i);
  return phone;
}

bool PurchaseIndex(const std::string& id, int64_t* n) {
  if (id.rfind("bp-", 0) != 0) return false;
  char* end = nullptr;
  *n = std::strtoll(id.c_str() + 3, &end, 10);
  return end != nullptr && *end == '\0';
}

// The value of one sample in Prometheus text format (name with labels exactly as exposed);
// -1 if absent.
double MetricValue(const std::string& text, const std::string& series) {
  size_t pos = 0;
  while ((pos = text.find(series, pos)) != std::string::npos) {
    bool line_start = pos == 0 || text[pos - 1] == '\n';
    size_t after = pos + series.size();
    if (line_start && after < text.size() && text[after] == ' ') {
      return std::strtod(text.c_str() + after + 1, nullptr);
    }
    pos = after;
  }
  return -1;
}

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// 1234567 -> "1,234,567"
std::string Thousands(double v) {
  auto n = static_cast<long long>(v + 0.5);
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// CPU seconds (user + system) of a process from /proc/<pid>/stat; -1 if unreadable.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// This process's children by executable name (loyalty-accrual, loyalty-devkafka), for CPU
// accounting.
std::vector<std::pair<std::string, pid_t>> Children() {
  std::vector<std::pair<std::string, pid_t>> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == getpid()) {
      out.emplace_back(text.substr(open + 1, close - open - 1),
                       static_cast<pid_t>(std::stol(name)));
    }
  }
  return out;
}

// The 1-minute load average: other work on the machine skews every figure.
double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct CpuSnapshot {
  double accrual = 0, broker = 0, bench = 0;
};

CpuSnapshot TakeCpu() {
  CpuSnapshot s;
  for (const auto& [name, pid] : Children()) {
    double cpu = ProcessCpuSeconds(pid);
    if (name.find("accrual") != std::string::npos) s.accrual += cpu;
    if (name.find("devkafk") != std::string::npos) s.broker += cpu;
  }
  s.bench = SelfCpuSeconds();
  return s;
}

// Runs count unary calls with up to inflight in flight on one completion queue. issue(i,
// context, cq) starts call i and returns its reader; done(i, status, response) returns false
// to retry the call.
template <typename Response>
using Reader = std::unique_ptr<grpc::ClientAsyncResponseReader<Response>>;

template <typename Response>
void RunConcurrent(
    int count, int inflight,
    const std::function<Reader<Response>(int, grpc::ClientContext*, grpc::CompletionQueue*)>& issue,
    const std::function<bool(int, const grpc::Status&, const Response&)>& done) {
  struct Call {
    int index = 0;
    int attempts = 0;
    std::unique_ptr<grpc::ClientContext> context;
    Response response;
    grpc::Status status;
    Reader<Response> reader;
  };
  grpc::CompletionQueue cq;
  auto start = [&](Call* call) {
    call->context = std::make_unique<grpc::ClientContext>();
    call->context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    call->response.Clear();
    ++call->attempts;
    call->reader = issue(call->index, call->context.get(), &cq);
    call->reader->Finish(&call->response, &call->status, call);
  };
  int next = 0, running = 0;
  std::vector<std::unique_ptr<Call>> calls;
  for (; next < count && running < inflight; ++next, ++running) {
    calls.push_back(std::make_unique<Call>());
    calls.back()->index = next;
    start(calls.back().get());
  }
  void* tag = nullptr;
  bool ok = false;
  while (running > 0 && cq.Next(&tag, &ok)) {
    auto* call = static_cast<Call*>(tag);
    if (!done(call->index, call->status, call->response)) {
      if (call->attempts >= 5) {
        throw std::runtime_error("call " + std::to_string(call->index) +
                                 " failed 5 times: " + call->status.error_message());
      }
      start(call);
      continue;
    }
    if (next < count) {
      call->index = next++;
      call->attempts = 0;
      start(call);
    } else {
      --running;
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

// ---------------------------------------------------------------------------------------------
// The workload

struct Workload {
  std::vector<std::string> member_ids;
  std::vector<int32_t> member_of;   // per purchase
  std::vector<std::string> values;  // serialized PurchaseEvent per purchase
  double avg_value_bytes = 0;
};

Workload Generate(const Options& o) {
  Workload w;
  w.member_ids.reserve(o.members);
  for (int i = 0; i < o.members; ++i) w.member_ids.push_back(MemberId(i));
  w.member_of.resize(o.purchases);
  w.values.resize(o.purchases);
  std::mt19937_64 rng(o.seed);
  accrual::AccrualConfig program;  // the service runs with the default program
  const int64_t base_ms = 1'767'225'600'000;
  double bytes = 0;
  for (int64_t n = 0; n < o.purchases; ++n) {
    int member = static_cast<int>(rng() % static_cast<uint64_t>(o.members));
    v1::PurchaseEvent p;
    p.set_purchase_id(PurchaseId(n));
    p.set_member_id(w.member_ids[member]);
    p.set_store_id("store-" + std::to_string(rng() % 500));
    if (o.lines) {
      AddBenchLines(p, rng);
    } else {
      p.set_amount_minor(100 + static_cast<int64_t>(rng() % 500'000));
    }
    p.set_currency(program.currency);
    p.set_occurred_at_ms(base_ms + n);
    w.member_of[n] = member;
    w.values[n] = p.SerializeAsString();
    bytes += static_cast<double>(w.values[n].size());
  }
  w.avg_value_bytes = bytes / static_cast<double>(o.purchases);
  return w;
}

// ---------------------------------------------------------------------------------------------
// Results

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
  size_t count = 0;
};

Percentiles Latencies(std::vector<int64_t> ns) {
  Percentiles p;
  p.count = ns.size();
  if (ns.empty()) return p;
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(ns.size() - 1));
    return static_cast<double>(ns[i]) / 1e6;
  };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.max = static_cast<double>(ns.back()) / 1e6;
  return p;
}

struct ServiceResult {
  double enroll_seconds = 0;
  double enroll_per_s = 0;
  double publish_seconds = 0;        // produce() calls
  double publish_acked_seconds = 0;  // until the broker acknowledged every purchase
  double throttled_seconds = 0;      // publisher waiting because of --max_backlog
  double applied_seconds = 0;        // first publish -> accrual_purchases_total reached N
  double events_seconds = 0;         // first publish -> last PointsEarned event read
  double steady_per_s = 0;           // events between 10% and 90%
  Percentiles latency;
  Percentiles relay;     // staged in accrual -> produced by its outbox relay
  Percentiles delivery;  // produced by the relay -> read by the bench
  double rss_after_enroll_mb = 0, rss_end_mb = 0, rss_peak_mb = 0;
  double avg_batch = 0, avg_batch_commit_ms = 0;
  CpuSnapshot cpu;  // during phase (c)
  double load_before = 0, load_after = 0;
  // Per member, as accrual answered GetBalance after the stream: tier and Balance bytes.
  std::vector<std::string> balances;
  int64_t total_earned = 0;
};

v1::EnrollMemberRequest EnrollRequest(const Workload& w, int i) {
  v1::EnrollMemberRequest request;
  request.set_member_id(w.member_ids[i]);
  request.set_phone(Phone(i));
  request.set_idempotency_key("enroll-" + w.member_ids[i]);
  return request;
}

// The members of the call-th EnrollMembers call of --enroll_batch.
v1::EnrollMembersRequest EnrollBatch(const Options& o, const Workload& w, int call) {
  v1::EnrollMembersRequest request;
  const int end = std::min(o.members, (call + 1) * o.enroll_batch);
  for (int i = call * o.enroll_batch; i < end; ++i) *request.add_members() = EnrollRequest(w, i);
  return request;
}

std::string BalanceKey(const v1::GetBalanceResponse& response) {
  return response.tier() + '\n' + response.balance().SerializeAsString();
}

// ---------------------------------------------------------------------------------------------
// The earning rules (--rules): the same program for the service and the in-process reference

// Budgets that never run out: the service interleaves partitions in another order than the
// reference, and a budget that ran out would make the two pay different purchases.
constexpr int64_t kUnreachableBudget = 1'000'000'000'000'000;

v1::PurchaseMembershipRequest PaidMembership(const Workload& w, int m) {
  v1::PurchaseMembershipRequest request;
  request.set_member_id(w.member_ids[m]);
  request.set_tier(BenchPaidTier(m));
  request.set_days(365);
  request.set_idempotency_key("paid-" + w.member_ids[m]);
  return request;
}

v1::SetMemberSegmentsRequest Segment(const Workload& w, int m) {
  v1::SetMemberSegmentsRequest request;
  request.set_member_id(w.member_ids[m]);
  request.add_segments("students");
  request.set_idempotency_key("segment-" + w.member_ids[m]);
  return request;
}

v1::CreateCampaignRequest NewCampaign(int i) {
  v1::CreateCampaignRequest request;
  *request.mutable_campaign() = BenchCampaign(i, kUnreachableBudget);
  request.set_actor("accrual_bench");
  request.set_idempotency_key("campaign-" + std::to_string(i));
  return request;
}

std::vector<int> MembersWhere(int members, bool (*pick)(int)) {
  std::vector<int> picked;
  for (int m = 0; m < members; ++m) {
    if (pick(m)) picked.push_back(m);
  }
  return picked;
}

bool BuysTier(int m) { return *BenchPaidTier(m) != '\0'; }

void SetUpRulesOverGrpc(const Options& o, const Workload& w, v1::AccrualService::Stub& stub) {
  auto start = SteadyClock::now();
  std::vector<int> paid = MembersWhere(o.members, BuysTier);
  RunConcurrent<v1::Member>(
      static_cast<int>(paid.size()), o.inflight,
      [&](int i, grpc::ClientContext* context, grpc::CompletionQueue* cq) {
        return stub.AsyncPurchaseMembership(context, PaidMembership(w, paid[i]), cq);
      },
      [](int, const grpc::Status& status, const v1::Member&) { return status.ok(); });
  std::vector<int> segment = MembersWhere(o.members, BenchInSegment);
  RunConcurrent<v1::Member>(
      static_cast<int>(segment.size()), o.inflight,
      [&](int i, grpc::ClientContext* context, grpc::CompletionQueue* cq) {
        return stub.AsyncSetMemberSegments(context, Segment(w, segment[i]), cq);
      },
      [](int, const grpc::Status& status, const v1::Member&) { return status.ok(); });
  for (int i = 0; i < kBenchCampaigns; ++i) {
    grpc::ClientContext context;
    v1::Campaign created;
    grpc::Status status = stub.CreateCampaign(&context, NewCampaign(i), &created);
    if (!status.ok()) throw std::runtime_error("CreateCampaign: " + status.error_message());
  }
  std::printf("(b) rules: %zu paid memberships, %zu members in a segment, %d campaigns in %.2f s\n",
              paid.size(), segment.size(), kBenchCampaigns, Seconds(start));
}

void SetUpRulesInProcess(const Options& o, const Workload& w, accrual::AccrualCore& core) {
  for (int m : MembersWhere(o.members, BuysTier)) {
    if (auto s = core.PurchaseMembership(kTestCaller, PaidMembership(w, m)); !s.ok()) {
      throw std::runtime_error(s.status().message());
    }
  }
  for (int m : MembersWhere(o.members, BenchInSegment)) {
    if (auto s = core.SetMemberSegments(kTestCaller, Segment(w, m)); !s.ok()) {
      throw std::runtime_error(s.status().message());
    }
  }
  for (int i = 0; i < kBenchCampaigns; ++i) {
    if (auto s = core.CreateCampaign(kTestCaller, NewCampaign(i)); !s.ok()) {
      throw std::runtime_error(s.status().message());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Phases (a)-(c): the service

// (b) and (c) against a running broker and accrual.
ServiceResult Measure(const Options& o, const Workload& w, testing::DevKafka& kafka,
                      testing::ServiceProcess& accrual) {
  ServiceResult r;
  const int metrics_port = accrual.metrics_port();
  std::printf("broker %s, accrual gRPC %d, metrics %d\n", kafka.bootstrap().c_str(),
              accrual.grpc_port(), metrics_port);

  auto channel = grpc::CreateChannel(accrual.grpc_address(), testing::TestChannelCredentials());
  auto stub = v1::AccrualService::NewStub(channel);

  // (b) Enrollment.
  auto enroll_start = SteadyClock::now();
  if (o.enroll_batch == 0) {
    RunConcurrent<v1::Member>(
        o.members, o.inflight,
        [&](int i, grpc::ClientContext* context, grpc::CompletionQueue* cq) {
          return stub->AsyncEnrollMember(context, EnrollRequest(w, i), cq);
        },
        [&](int i, const grpc::Status& status, const v1::Member&) {
          if (!status.ok()) {
            std::fprintf(stderr, "enroll %d: %s (retrying)\n", i, status.error_message().c_str());
          }
          return status.ok();
        });
  } else {
    const int calls = (o.members + o.enroll_batch - 1) / o.enroll_batch;
    RunConcurrent<v1::EnrollMembersResponse>(
        calls, std::min(o.inflight, 8),
        [&](int call, grpc::ClientContext* context, grpc::CompletionQueue* cq) {
          return stub->AsyncEnrollMembers(context, EnrollBatch(o, w, call), cq);
        },
        [&](int call, const grpc::Status& status, const v1::EnrollMembersResponse& response) {
          if (!status.ok()) {
            std::fprintf(stderr, "enroll batch %d: %s (retrying)\n", call,
                         status.error_message().c_str());
            return false;
          }
          for (const auto& result : response.results()) {
            if (result.code() != 0) throw std::runtime_error("enroll: " + result.error());
          }
          return true;
        });
  }
  r.enroll_seconds = Seconds(enroll_start);
  r.enroll_per_s = o.members / r.enroll_seconds;
  std::printf("(b) enrolled %s members in %.2f s: %s/s\n", Thousands(o.members).c_str(),
              r.enroll_seconds, Thousands(r.enroll_per_s).c_str());
  if (o.rules) SetUpRulesOverGrpc(o, w, *stub);
  r.rss_after_enroll_mb =
      MetricValue(HttpGet(metrics_port, "/metrics"), "process_resident_memory_bytes") / 1e6;

  // (c) The stream. The reader starts at the beginning of loyalty.events.v1 and skips the
  // enrollment events.
  const int64_t n_total = o.purchases;
  std::vector<int64_t> publish_ns(n_total, -1);
  std::vector<std::atomic<int64_t>> event_ns(n_total);
  for (auto& e : event_ns) e.store(-1, std::memory_order_relaxed);
  std::atomic<int64_t> events_seen{0};
  std::atomic<int64_t> last_event_ns{0};
  std::atomic<bool> stop_reader{false};

  auto consumer = KafkaConsumer::Create({kafka.bootstrap()}, "accrual-bench-reader");
  if (!consumer.ok()) throw std::runtime_error(consumer.status().message());
  if (Status s = (*consumer)->AssignAll({accrual::kEventsTopic}, {}); !s.ok()) {
    throw std::runtime_error(s.message());
  }
  auto producer = KafkaProducer::Create({kafka.bootstrap()});
  if (!producer.ok()) throw std::runtime_error(producer.status().message());

  // Warm-up: one non-member purchase (it earns nothing) gets the producer its metadata and
  // producer id and accrual's consumer fetching, so that the clock starts on a warm path.
  {
    v1::PurchaseEvent warm;
    warm.set_purchase_id("bench-warmup");
    warm.set_amount_minor(100);
    warm.set_currency(accrual::AccrualConfig{}.currency);
    if (Status s = (*producer)->Produce(accrual::kPurchasesTopic, "", warm.SerializeAsString());
        !s.ok()) {
      throw std::runtime_error(s.message());
    }
    (*producer)->Flush(30'000);
    auto deadline = SteadyClock::now() + std::chrono::seconds(30);
    while (MetricValue(HttpGet(metrics_port, "/metrics"),
                       "accrual_purchases_total{member=\"false\"}") < 1) {
      if (SteadyClock::now() > deadline) throw std::runtime_error("the warm-up was not applied");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  CpuSnapshot cpu_before = TakeCpu();
  r.load_before = LoadAverage();
  const auto epoch = SteadyClock::now();
  // Where the time goes, per event, in wall-clock ms: applied (occurred_at_ms, set when the
  // batch is staged) -> produced by the outbox relay (the Kafka timestamp) -> read here.
  std::vector<int64_t> relay_ms, delivery_ms;
  relay_ms.reserve(n_total);
  delivery_ms.reserve(n_total);
  std::thread reader([&] {
    v1::LoyaltyEvent event;
    SystemClock wall;
    while (o.read_events && !stop_reader.load(std::memory_order_relaxed)) {
      auto message = (*consumer)->Poll(100);
      if (!message) continue;
      int64_t now = NowNs(epoch);
      if (!event.ParseFromString(message->value) || !event.has_points_earned()) continue;
      int64_t n = 0;
      if (!PurchaseIndex(event.points_earned().purchase_id(), &n) || n < 0 || n >= n_total) {
        continue;
      }
      int64_t unset = -1;
      if (event_ns[n].compare_exchange_strong(unset, now)) {
        relay_ms.push_back(message->timestamp_ms - event.occurred_at_ms());
        delivery_ms.push_back(wall.NowMs() - message->timestamp_ms);
        events_seen.fetch_add(1);
        last_event_ns.store(now);
      }
    }
  });

  // Durable progress from /metrics every 100 ms.
  struct Sample {
    double t;
    int64_t applied;
    int64_t events;
  };
  std::vector<Sample> samples;
  std::atomic<int64_t> applied{0};
  std::atomic<int64_t> applied_at_ns{-1};
  std::atomic<bool> stop_poller{false};
  std::atomic<double> rss_peak{0};
  std::atomic<bool> stalled{false};
  int64_t last_progress = -1;
  auto progress_at = SteadyClock::now();
  auto next_print = SteadyClock::now();
  std::thread poller([&] {
    auto next = SteadyClock::now();
    while (!stop_poller) {
      next += std::chrono::milliseconds(100);
      std::this_thread::sleep_until(next);
      std::string text;
      try {
        text = HttpGet(metrics_port, "/metrics");
      } catch (const std::exception&) {
        continue;
      }
      int64_t now = NowNs(epoch);
      auto count = std::max<int64_t>(
          0, static_cast<int64_t>(MetricValue(text, "accrual_purchases_total{member=\"true\"}")));
      double rss = MetricValue(text, "process_resident_memory_bytes");
      if (rss > rss_peak) rss_peak = rss;
      applied = count;
      if (count >= n_total && applied_at_ns < 0) applied_at_ns = now;
      int64_t events = events_seen.load();
      samples.push_back({static_cast<double>(now) / 1e9, count, events});
      if (count + events != last_progress) {
        last_progress = count + events;
        progress_at = SteadyClock::now();
      } else if (Seconds(progress_at) > o.stall_seconds) {
        stalled = true;
      }
      if (SteadyClock::now() >= next_print) {
        std::fprintf(stderr, "  t=%6.1f s  applied %9" PRId64 "  events %9" PRId64 "\n",
                     static_cast<double>(now) / 1e9, count, events);
        next_print += std::chrono::seconds(5);
      }
    }
  });

  // Stops and joins both threads, also when something below throws.
  auto stop_threads = [&] {
    stop_poller = true;
    stop_reader = true;
    if (poller.joinable()) poller.join();
    if (reader.joinable()) reader.join();
  };
  struct Guard {
    std::function<void()> on_exit;
    ~Guard() { on_exit(); }
  } guard{stop_threads};

  auto fail_if_stalled = [&] {
    if (!stalled) return;
    std::fprintf(stderr, "stalled: %" PRId64 " applied, %" PRId64 " events\n", applied.load(),
                 events_seen.load());
    throw std::runtime_error("no progress for " + std::to_string(o.stall_seconds) + " s");
  };

  // Publish.
  std::printf("(c) publishing\n");
  auto& kp = **producer;
  for (int64_t n = 0; n < n_total; ++n) {
    if (o.rate > 0 && n % 64 == 0) {
      auto due = epoch + std::chrono::nanoseconds(static_cast<int64_t>(n * 1e9 / o.rate));
      std::this_thread::sleep_until(due);
    }
    if (n % 256 == 0 && n - std::max(applied.load(), events_seen.load()) > o.max_backlog) {
      auto throttled = SteadyClock::now();
      while (n - std::max(applied.load(), events_seen.load()) > o.max_backlog && !stalled) {
        kp.Poll(1);
      }
      fail_if_stalled();
      r.throttled_seconds += Seconds(throttled);
    }
    publish_ns[n] = NowNs(epoch);
    Status s = kp.Produce(accrual::kPurchasesTopic, w.member_ids[w.member_of[n]], w.values[n]);
    if (!s.ok()) throw std::runtime_error(s.message());
    if (n % 1000 == 0) kp.Poll(0);
  }
  r.publish_seconds = static_cast<double>(NowNs(epoch)) / 1e9;
  while (!kp.Flush(1000)) {
  }
  r.publish_acked_seconds = static_cast<double>(NowNs(epoch)) / 1e9;
  std::printf(
      "(c) published %s purchases (%.0f bytes each) in %.2f s: %s/s (acked at %.2f s; "
      "throttled %.2f s by --max_backlog=%" PRId64 ")\n",
      Thousands(n_total).c_str(), w.avg_value_bytes, r.publish_seconds,
      Thousands(n_total / r.publish_seconds).c_str(), r.publish_acked_seconds, r.throttled_seconds,
      o.max_backlog);

  // Wait until every purchase is durable and every event was read.
  while (applied < n_total || (o.read_events && events_seen < n_total)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    fail_if_stalled();
  }
  stop_threads();
  r.load_after = LoadAverage();
  CpuSnapshot cpu_after = TakeCpu();
  r.cpu = {cpu_after.accrual - cpu_before.accrual, cpu_after.broker - cpu_before.broker,
           cpu_after.bench - cpu_before.bench};

  r.applied_seconds = static_cast<double>(applied_at_ns.load()) / 1e9;
  r.events_seconds = static_cast<double>(last_event_ns.load()) / 1e9;
  if (o.read_events) {
    std::vector<int64_t> arrivals, latencies;
    arrivals.reserve(n_total);
    latencies.reserve(n_total);
    for (int64_t n = 0; n < n_total; ++n) {
      int64_t e = event_ns[n].load();
      arrivals.push_back(e);
      latencies.push_back(e - publish_ns[n]);
    }
    r.latency = Latencies(latencies);
    for (auto* v : {&relay_ms, &delivery_ms}) {
      for (auto& ms : *v) ms *= 1'000'000;  // Latencies takes ns
    }
    r.relay = Latencies(std::move(relay_ms));
    r.delivery = Latencies(std::move(delivery_ms));
    std::sort(arrivals.begin(), arrivals.end());
    size_t lo = n_total / 10, hi = n_total * 9 / 10;
    if (hi > lo && arrivals[hi] > arrivals[lo]) {
      r.steady_per_s =
          static_cast<double>(hi - lo) / (static_cast<double>(arrivals[hi] - arrivals[lo]) / 1e9);
    }
  }

  std::string text = HttpGet(metrics_port, "/metrics");
  r.rss_end_mb = MetricValue(text, "process_resident_memory_bytes") / 1e6;
  r.rss_peak_mb = std::max(rss_peak.load(), r.rss_end_mb * 1e6) / 1e6;
  double batches = MetricValue(text, "kafka_batch_messages_count");
  if (batches > 0) {
    r.avg_batch = MetricValue(text, "kafka_batch_messages_sum") / batches;
    r.avg_batch_commit_ms = MetricValue(text, "kafka_batch_commit_seconds_sum") /
                            MetricValue(text, "kafka_batch_commit_seconds_count") * 1e3;
  }

  // Progress per second, from the /metrics samples.
  std::printf("timeline (s, purchases durably applied in that second, events read):\n ");
  double prev_t = 0;
  int64_t prev_applied = 0, prev_events = 0;
  int printed = 0;
  for (const auto& s : samples) {
    if (s.t - prev_t < 1.0 && &s != &samples.back()) continue;
    std::printf(" [%.1f] %s/%s", s.t,
                Thousands((s.applied - prev_applied) / (s.t - prev_t)).c_str(),
                Thousands((s.events - prev_events) / (s.t - prev_t)).c_str());
    if (++printed % 6 == 0) std::printf("\n ");
    prev_t = s.t;
    prev_applied = s.applied;
    prev_events = s.events;
  }
  std::printf("\n");

  // Every balance, kept to compare with the in-process reference in phase (d).
  auto check_start = SteadyClock::now();
  r.balances.resize(o.members);
  RunConcurrent<v1::GetBalanceResponse>(
      o.members, o.inflight,
      [&](int i, grpc::ClientContext* context, grpc::CompletionQueue* cq) {
        v1::GetBalanceRequest request;
        request.set_member_id(w.member_ids[i]);
        return stub->AsyncGetBalance(context, request, cq);
      },
      [&](int i, const grpc::Status& status, const v1::GetBalanceResponse& response) {
        if (!status.ok()) return false;
        r.balances[i] = BalanceKey(response);
        r.total_earned += response.balance().lifetime_earned();
        return true;
      });
  std::printf("balances: %s points earned in %s balances, read in %.1f s\n",
              Thousands(static_cast<double>(r.total_earned)).c_str(), Thousands(o.members).c_str(),
              Seconds(check_start));

  return r;
}

// (a): the broker and accrual as child processes, stopped at the end.
ServiceResult RunService(const Options& o, const Workload& w, const testing::TempDir& dir) {
  ServiceResult r;
  auto kafka = std::make_unique<testing::DevKafka>(dir.Sub("kafka"), o.partitions);
  auto accrual = std::make_unique<testing::ServiceProcess>(
      "accrual", dir.path(), kafka->bootstrap(),
      std::vector<std::string>{"--kafka.max_batch=" + std::to_string(o.batch)});
  accrual->Start();
  try {
    r = Measure(o, w, *kafka, *accrual);
  } catch (const std::exception&) {
    std::fprintf(stderr, "accrual's log ends with:\n%s\n", accrual->process().LogTail().c_str());
    throw;
  }
  accrual->Stop();
  accrual.reset();
  kafka.reset();
  return r;
}

// ---------------------------------------------------------------------------------------------
// Phase (d): the in-process reference and the RocksDB floor

// One WriteBatch as the core wrote it, replayed through Store::Commit.
struct CapturedBatch {
  std::string rep;  // rocksdb::WriteBatch::Data()
};

struct Reference {
  double seconds = 0;  // applying the N purchases in-process
  int wrong = 0;
  std::string first_wrong;
  int64_t total_earned = 0;
  std::vector<std::string> cf_names;  // by column family id
  std::vector<CapturedBatch> enrollment, purchases;
  // Per purchase: puts, deletes and bytes (key + value) by column family.
  std::map<std::string, std::array<double, 3>> per_purchase;
};

// Re-issues a captured batch's operations through a StagedWrite.
class Replayer : public rocksdb::WriteBatch::Handler {
 public:
  Replayer(const std::vector<std::string>& cf_names, StagedWrite& write,
           std::vector<std::string>* outbox_keys)
      : cf_names_(cf_names), write_(write), outbox_keys_(outbox_keys) {}
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    write_.Put(cf_names_.at(cf), std::string_view(key.data(), key.size()),
               std::string_view(value.data(), value.size()));
    if (outbox_keys_ && cf_names_.at(cf) == kOutboxCf) outbox_keys_->push_back(key.ToString());
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    write_.Delete(cf_names_.at(cf), std::string_view(key.data(), key.size()));
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    return DeleteCF(cf, key);
  }

 private:
  const std::vector<std::string>& cf_names_;
  StagedWrite& write_;
  std::vector<std::string>* outbox_keys_;
};

// Counts a captured batch's operations by column family.
class Counter : public rocksdb::WriteBatch::Handler {
 public:
  Counter(const std::vector<std::string>& cf_names,
          std::map<std::string, std::array<double, 3>>& counts)
      : cf_names_(cf_names), counts_(counts) {}
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    auto& c = counts_[cf_names_.at(cf)];
    c[0] += 1;
    c[2] += static_cast<double>(key.size() + value.size());
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    auto& c = counts_[cf_names_.at(cf)];
    c[1] += 1;
    c[2] += static_cast<double>(key.size());
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    return DeleteCF(cf, key);
  }

 private:
  const std::vector<std::string>& cf_names_;
  std::map<std::string, std::array<double, 3>>& counts_;
};

std::vector<std::string> StoreColumnFamilies() {
  auto names = accrual::AccrualColumnFamilies();
  if (std::find(names.begin(), names.end(), kOutboxCf) == names.end()) names.push_back(kOutboxCf);
  return names;
}

// The real AccrualCore in this process, on a store without fsync, applies the same stream
// in batches of --batch. Its balances must equal the service's, and its WAL is the exact
// write stream that the floor replays.
Reference RunReference(const Options& o, const Workload& w, const ServiceResult& service,
                       const std::string& path) {
  Reference ref;
  StoreOptions options;
  options.sync = false;
  auto names = StoreColumnFamilies();
  auto store = Store::Open(path, names, options);
  if (!store.ok()) throw std::runtime_error(store.status().message());
  rocksdb::DB* db = (*store)->db();
  // Keep every WAL file so that the write stream can be read back afterwards.
  if (o.floor) {
    if (auto s = db->DisableFileDeletions(); !s.ok()) throw std::runtime_error(s.ToString());
  }
  ref.cf_names = {rocksdb::kDefaultColumnFamilyName};
  ref.cf_names.insert(ref.cf_names.end(), names.begin(), names.end());
  // Column families get their ids in the order they are created; check with one marker put.
  (*store)->Commit([&](StagedWrite& write) { write.Put(names.back(), "accrual_bench", ""); });
  (*store)->Commit([&](StagedWrite& write) { write.Delete(names.back(), "accrual_bench"); });
  const rocksdb::SequenceNumber marker_seq = db->GetLatestSequenceNumber();

  Outbox outbox(**store);
  SystemClock clock;
  accrual::AccrualCore core(**store, outbox, clock, accrual::AccrualConfig{});
  if (o.enroll_batch == 0) {
    for (int m = 0; m < o.members; ++m) {
      if (auto s = core.EnrollMember(kTestCaller, EnrollRequest(w, m)); !s.ok()) {
        throw std::runtime_error(s.status().message());
      }
    }
  } else {
    for (int call = 0; call * o.enroll_batch < o.members; ++call) {
      auto s = core.EnrollMembers(kTestCaller, EnrollBatch(o, w, call));
      if (!s.ok()) throw std::runtime_error(s.status().message());
    }
  }
  if (o.rules) SetUpRulesInProcess(o, w, core);
  const rocksdb::SequenceNumber enrolled_seq = db->GetLatestSequenceNumber();

  auto start = SteadyClock::now();
  std::vector<KafkaMessage> batch;
  std::vector<int64_t> next_offset(o.partitions, 0);
  for (int64_t n = 0; n < o.purchases; ++n) {
    KafkaMessage m;
    m.topic = accrual::kPurchasesTopic;
    m.partition = w.member_of[n] % o.partitions;
    m.offset = next_offset[m.partition]++;
    m.key = w.member_ids[w.member_of[n]];
    m.value = w.values[n];
    batch.push_back(std::move(m));
    if (static_cast<int>(batch.size()) == o.batch || n + 1 == o.purchases) {
      auto result = core.ApplyBatch(batch, accrual::DecodeCommand);
      if (result.purchases_applied != static_cast<int64_t>(batch.size())) {
        throw std::runtime_error("the in-process core did not apply every purchase");
      }
      batch.clear();
    }
  }
  ref.seconds = Seconds(start);

  for (int m = 0; m < o.members; ++m) {
    auto balance = core.GetBalance(w.member_ids[m]);
    if (!balance.ok()) throw std::runtime_error(balance.status().message());
    ref.total_earned += balance->balance().lifetime_earned();
    if (BalanceKey(*balance) != service.balances[m] && ref.wrong++ == 0) {
      v1::GetBalanceResponse theirs;
      auto nl = service.balances[m].find('\n');
      theirs.set_tier(service.balances[m].substr(0, nl));
      theirs.mutable_balance()->ParseFromString(service.balances[m].substr(nl + 1));
      ref.first_wrong = w.member_ids[m] + ": service " + theirs.ShortDebugString() +
                        "; in-process " + balance->tier() + " " +
                        balance->balance().ShortDebugString();
    }
  }

  if (!o.floor) return ref;
  // The write stream, from the WAL.
  std::unique_ptr<rocksdb::TransactionLogIterator> wal;
  if (auto s = db->GetUpdatesSince(1, &wal); !s.ok()) throw std::runtime_error(s.ToString());
  bool marker_checked = false;
  for (; wal->Valid(); wal->Next()) {
    rocksdb::BatchResult result = wal->GetBatch();
    if (result.sequence <= marker_seq) {
      struct Check : rocksdb::WriteBatch::Handler {
        uint32_t expected;
        bool* ok;
        rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice&, const rocksdb::Slice&) override {
          *ok = cf == expected;
          return rocksdb::Status::OK();
        }
      } check;
      check.expected = static_cast<uint32_t>(ref.cf_names.size() - 1);
      check.ok = &marker_checked;
      result.writeBatchPtr->Iterate(&check);
      continue;
    }
    auto& list = result.sequence <= enrolled_seq ? ref.enrollment : ref.purchases;
    list.push_back({result.writeBatchPtr->Data()});
  }
  if (!wal->status().ok()) throw std::runtime_error(wal->status().ToString());
  if (!marker_checked) throw std::runtime_error("column family ids are not in creation order");
  for (const auto& b : ref.purchases) {
    rocksdb::WriteBatch copy(b.rep);
    Counter counter(ref.cf_names, ref.per_purchase);
    copy.Iterate(&counter);
  }
  for (auto& [cf, c] : ref.per_purchase) {
    for (auto& v : c) v /= static_cast<double>(o.purchases);
  }
  return ref;
}

struct FloorResult {
  double seconds = 0;
  double per_s = 0;       // purchases/s
  double puts_per_s = 0;  // RocksDB puts and deletes/s
  double bytes_per_purchase = 0;
  double ops_per_purchase = 0;
  double batches = 0;
  double seconds_with_deletes = 0;
  double per_s_with_deletes = 0;
  double load_after = 0;
};

// Replays the captured write stream into a fresh Store with fsync: the enrollment untimed, in
// large groups; then every purchase batch as one synced Store::Commit. with_deletes adds the
// relay's synced deletes of each batch's outbox records after it.
double ReplayFloor(const Reference& ref, const std::string& path, bool with_deletes) {
  auto store = Store::Open(path, StoreColumnFamilies(), StoreOptions{});
  if (!store.ok()) throw std::runtime_error(store.status().message());
  for (size_t i = 0; i < ref.enrollment.size(); i += 2000) {
    (*store)->Commit([&](StagedWrite& write) {
      for (size_t j = i; j < std::min(ref.enrollment.size(), i + 2000); ++j) {
        rocksdb::WriteBatch copy(ref.enrollment[j].rep);
        Replayer replayer(ref.cf_names, write, nullptr);
        copy.Iterate(&replayer);
      }
    });
  }
  std::vector<std::string> outbox_keys;
  auto start = SteadyClock::now();
  for (const auto& b : ref.purchases) {
    outbox_keys.clear();
    (*store)->Commit([&](StagedWrite& write) {
      rocksdb::WriteBatch copy(b.rep);
      Replayer replayer(ref.cf_names, write, with_deletes ? &outbox_keys : nullptr);
      copy.Iterate(&replayer);
    });
    if (with_deletes && !outbox_keys.empty()) {
      (*store)->Commit([&](StagedWrite& write) {
        for (const auto& key : outbox_keys) write.Delete(kOutboxCf, key);
      });
    }
  }
  return Seconds(start);
}

FloorResult RunFloor(const Options& o, const Reference& ref, const testing::TempDir& dir) {
  FloorResult f;
  double ops = 0;
  for (const auto& [cf, c] : ref.per_purchase) {
    ops += c[0] + c[1];
    f.bytes_per_purchase += c[2];
  }
  f.ops_per_purchase = ops;
  f.batches = static_cast<double>(ref.purchases.size());
  f.seconds = ReplayFloor(ref, dir.Sub("floor"), false);
  f.per_s = static_cast<double>(o.purchases) / f.seconds;
  f.puts_per_s = ops * static_cast<double>(o.purchases) / f.seconds;
  std::printf(
      "(d) floor: the same %s batches with fsync, nothing else: %.2f s: %s purchases/s (%s "
      "puts+deletes/s)\n",
      Thousands(f.batches).c_str(), f.seconds, Thousands(f.per_s).c_str(),
      Thousands(f.puts_per_s).c_str());
  std::filesystem::remove_all(dir.Sub("floor"));
  if (o.floor_deletes) {
    f.seconds_with_deletes = ReplayFloor(ref, dir.Sub("floor-deletes"), true);
    f.per_s_with_deletes = static_cast<double>(o.purchases) / f.seconds_with_deletes;
    std::printf("(d) floor with the relay's outbox deletes: %.2f s: %s purchases/s\n",
                f.seconds_with_deletes, Thousands(f.per_s_with_deletes).c_str());
    std::filesystem::remove_all(dir.Sub("floor-deletes"));
  }
  f.load_after = LoadAverage();
  return f;
}

// ---------------------------------------------------------------------------------------------

int Main(int argc, char** argv) {
  Options o = ParseOptions(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string command;
  for (int i = 0; i < argc; ++i)
    command += (i ? " " : "") + std::string(i ? argv[i] : "accrual_bench");
  std::printf("accrual_bench: %s purchases, %s members, %d partitions, batch %d%s\n",
              Thousands(static_cast<double>(o.purchases)).c_str(), Thousands(o.members).c_str(),
              o.partitions, o.batch,
              o.rate > 0 ? (", rate " + Thousands(o.rate) + "/s").c_str() : "");
  auto gen_start = SteadyClock::now();
  Workload w = Generate(o);
  std::printf("generated the purchases in %.1f s\n", Seconds(gen_start));

  testing::TempDir dir;
  ServiceResult s = RunService(o, w, dir);
  Reference ref = RunReference(o, w, s, dir.Sub("reference"));
  std::filesystem::remove_all(dir.Sub("reference"));
  const double reference_per_s = static_cast<double>(o.purchases) / ref.seconds;
  std::printf("(d) in-process AccrualCore, no fsync: %s purchases/s; balances %s\n",
              Thousands(reference_per_s).c_str(),
              ref.wrong == 0
                  ? "equal to the service's"
                  : (std::to_string(ref.wrong) + " differ, e.g. " + ref.first_wrong).c_str());
  std::printf("(d) written per purchase (puts + deletes, bytes of keys and values):");
  for (const auto& [cf, c] : ref.per_purchase) {
    std::printf(" %s %.2f+%.2f %.0f B;", cf.c_str(), c[0], c[1], c[2]);
  }
  std::printf("\n");
  FloorResult f;
  if (o.floor) f = RunFloor(o, ref, dir);
  const bool balances_ok = ref.wrong == 0 && ref.total_earned == s.total_earned;

  double applied_per_s = static_cast<double>(o.purchases) / s.applied_seconds;
  double events_per_s = static_cast<double>(o.purchases) / s.events_seconds;
  double target = 50'000;
  std::printf("\n## accrual_bench summary\n\n");
  std::printf("Command: `%s`\n\n", command.c_str());
  std::printf("| measure | value |\n|---|---|\n");
  std::printf("| purchases / members / partitions / batch | %s / %s / %d / %d |\n",
              Thousands(static_cast<double>(o.purchases)).c_str(), Thousands(o.members).c_str(),
              o.partitions, o.batch);
  std::printf("| program | %s |\n",
              o.rules   ? "4 tiers (75% paid memberships), a segment, 20 live campaigns; 3 lines"
              : o.lines ? "default, every member in the base tier; purchases of 3 lines"
                        : "default, every member in the base tier; purchases without lines");
  std::printf("| enrollments over gRPC (%s) | %s/s (%.1f s) |\n",
              o.enroll_batch == 0
                  ? (std::to_string(o.inflight) + " EnrollMember calls in flight").c_str()
                  : ("EnrollMembers of " + std::to_string(o.enroll_batch)).c_str(),
              Thousands(s.enroll_per_s).c_str(), s.enroll_seconds);
  std::printf(
      "| publish rate (produce calls, incl. waits for backlog <= %s%s) | %s/s (%.2f s, %.2f s "
      "throttled) |\n",
      Thousands(static_cast<double>(o.max_backlog)).c_str(),
      o.rate > 0 ? (", paced at " + Thousands(o.rate) + "/s").c_str() : "",
      Thousands(static_cast<double>(o.purchases) / s.publish_seconds).c_str(), s.publish_seconds,
      s.throttled_seconds);
  std::printf(
      "| durably applied (first publish -> accrual_purchases_total = N) | %s/s (%.2f s) |\n",
      Thousands(applied_per_s).c_str(), s.applied_seconds);
  if (!o.read_events) {
    std::printf("| end to end, latencies | not measured (--read_events=false) |\n");
  } else {
    std::printf("| end to end (first publish -> last PointsEarned read) | %s/s (%.2f s) |\n",
                Thousands(events_per_s).c_str(), s.events_seconds);
    std::printf("| steady rate (events 10%%..90%%) | %s/s |\n", Thousands(s.steady_per_s).c_str());
    std::printf("| latency publish -> PointsEarned p50 / p99 / max | %s / %s / %s ms |\n",
                Fmt("%.0f", s.latency.p50).c_str(), Fmt("%.0f", s.latency.p99).c_str(),
                Fmt("%.0f", s.latency.max).c_str());
    std::printf("| of which: staged in accrual -> produced by its relay p50 / p99 | %s / %s ms |\n",
                Fmt("%.0f", s.relay.p50).c_str(), Fmt("%.0f", s.relay.p99).c_str());
    std::printf("| of which: produced by the relay -> read p50 / p99 | %s / %s ms |\n",
                Fmt("%.0f", s.delivery.p50).c_str(), Fmt("%.0f", s.delivery.p99).c_str());
  }
  std::printf("| accrual batches: avg size / avg apply+sync time | %.0f / %.1f ms |\n", s.avg_batch,
              s.avg_batch_commit_ms);
  std::printf("| accrual RSS after enrollment / end / peak | %.0f / %.0f / %.0f MB |\n",
              s.rss_after_enroll_mb, s.rss_end_mb, s.rss_peak_mb);
  std::printf("| CPU s during the stream: accrual / broker / bench | %.1f / %.1f / %.1f |\n",
              s.cpu.accrual, s.cpu.broker, s.cpu.bench);
  std::printf("| accrual CPU per purchase | %.1f us |\n",
              s.cpu.accrual / static_cast<double>(o.purchases) * 1e6);
  std::printf("| in-process AccrualCore, same batches, no fsync, no Kafka/gRPC/relay | %s/s |\n",
              Thousands(reference_per_s).c_str());
  if (o.floor) {
    std::printf(
        "| RocksDB floor: its write stream (%.0f B, %.2f puts+deletes per purchase), synced "
        "batches of %d | %s purchases/s (%s ops/s) |\n",
        f.bytes_per_purchase, f.ops_per_purchase, o.batch, Thousands(f.per_s).c_str(),
        Thousands(f.puts_per_s).c_str());
    if (o.floor_deletes) {
      std::printf("| RocksDB floor + relay's outbox deletes | %s purchases/s |\n",
                  Thousands(f.per_s_with_deletes).c_str());
    }
    std::printf("| ratio service (durably applied) / floor | %s |\n",
                o.rate > 0 ? "n/a (paced run)" : Fmt("%.2f", applied_per_s / f.per_s).c_str());
  } else {
    std::printf("| RocksDB floor | not measured (--floor=false) |\n");
  }
  std::string verdict = o.rate > 0                ? "n/a: a paced run measures latency"
                        : applied_per_s >= target ? "met"
                                                  : "NOT met";
  if (o.rate == 0 && (o.purchases != 1'000'000 || o.members != 100'000)) {
    verdict += " (the target is stated for 1,000,000 purchases, 100,000 members)";
  }
  std::printf("| target 50,000 purchases/s durably applied | %s |\n", verdict.c_str());
  std::printf(
      "| load average (1 min): stream start / stream end / floor end | %.2f / %.2f / %.2f |\n",
      s.load_before, s.load_after, f.load_after);
  std::printf(
      "| all %s balances (gRPC) = in-process reference | %s |\n", Thousands(o.members).c_str(),
      balances_ok ? "yes"
                  : ("NO: " + std::to_string(ref.wrong) + " differ; " + ref.first_wrong).c_str());
  std::printf("\n");
  return balances_ok && s.latency.count == static_cast<size_t>(o.purchases) ? 0 : 1;
}

}  // namespace
}  // namespace loyalty::bench

int main(int argc, char** argv) {
  try {
    return loyalty::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "accrual_bench failed: %s\n", e.what());
    return 1;
  }
}
