// What the input checks of issue 13 cost on accrual's hot path, in-process:
// - decoding a purchase record (three lines, as accrual_bench and earning_rules_bench send)
//   with DecodeCommand, which also runs CheckFieldLimits, against parsing it alone;
// - CheckFieldLimits on a typical gRPC request (AdjustPointsRequest);
// - the statvfs call the store makes before each group write (store.disk_min_free_bytes).
// The variants alternate for a number of rounds and the fastest round of each counts (other
// work on a shared machine only slows a round down). Compare the nanoseconds with accrual's
// CPU per purchase in docs/benchmarks.md.
//
//   input_checks_bench [--messages=N] [--rounds=R]
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "common/field_limits.h"
#include "common/input.h"
#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/purchases.pb.h"
#include "services/accrual/input_decoder.h"

namespace loyalty::accrual {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<InputMessage> Purchases(int count) {
  std::vector<InputMessage> records(count);
  for (int n = 0; n < count; ++n) {
    v1::PurchaseEvent p;
    p.set_purchase_id("purchase-" + std::to_string(n));
    p.set_member_id("member-" + std::to_string(n % 100'000));
    p.set_store_id("store-" + std::to_string(n % 50));
    p.set_amount_minor(12'345 + n % 1000);
    p.set_currency("UAH");
    p.set_occurred_at_ms(1'780'000'000'000 + n);
    for (int l = 0; l < 3; ++l) {
      auto* line = p.add_lines();
      line->set_sku("sku-" + std::to_string((n + l) % 5000));
      line->set_category("category-" + std::to_string((n + l) % 10));
      line->set_quantity(1 + l);
      line->set_unit_price_minor(1000 + l);
    }
    records[n].topic = std::string(kPurchasesTopic);
    records[n].value = p.SerializeAsString();
  }
  return records;
}

template <typename F>
double NanosPerCall(int calls, F&& f) {
  auto start = Clock::now();
  for (int i = 0; i < calls; ++i) f(i);
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / calls;
}

int Main(int argc, char** argv) {
  int messages = 200'000;
  int rounds = 7;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--messages=", 11) == 0) messages = std::atoi(argv[i] + 11);
    if (std::strncmp(argv[i], "--rounds=", 9) == 0) rounds = std::atoi(argv[i] + 9);
  }
  auto records = Purchases(messages);
  v1::AdjustPointsRequest request;
  request.set_member_id("member-42");
  request.set_delta(500);
  request.set_actor("ops:anna");
  request.set_reason("goodwill: the parcel came late");
  request.set_idempotency_key("adjust-7f3a9c");

  double parse = 1e18, parse_check = 1e18, decode = 1e18, check_request = 1e18, statvfs_ns = 1e18;
  int64_t sink = 0;
  for (int round = 0; round < rounds; ++round) {
    parse = std::min(parse, NanosPerCall(messages, [&](int i) {
                       v1::PurchaseEvent p;
                       sink += p.ParseFromString(records[i].value) ? p.lines_size() : -1;
                     }));
    parse_check = std::min(parse_check, NanosPerCall(messages, [&](int i) {
                             v1::PurchaseEvent p;
                             sink += p.ParseFromString(records[i].value) ? p.lines_size() : -1;
                             sink += CheckFieldLimits(p).ok() ? 1 : -1000;
                           }));
    decode = std::min(decode, NanosPerCall(messages, [&](int i) {
                        Command c = DecodeCommand(records[i]);
                        sink += std::holds_alternative<PurchaseCmd>(c) ? 1 : -1000;
                      }));
    check_request = std::min(check_request, NanosPerCall(messages, [&](int) {
                               sink += CheckFieldLimits(request).ok() ? 1 : -1000;
                             }));
    statvfs_ns = std::min(statvfs_ns, NanosPerCall(messages / 10, [&](int) {
                            struct statvfs fs {};
                            sink += ::statvfs(".", &fs) == 0 ? 1 : -1000;
                          }));
  }
  std::printf("messages=%d rounds=%d (fastest round of each)\n", messages, rounds);
  std::printf("purchase parse only:                 %8.0f ns\n", parse);
  std::printf("purchase parse + CheckFieldLimits:     %8.0f ns  (limits: %.0f ns)\n", parse_check,
              parse_check - parse);
  std::printf("purchase DecodeCommand (with limits): %8.0f ns  (limits: %.0f ns)\n", decode,
              decode - parse);
  std::printf("CheckFieldLimits(AdjustPointsRequest): %7.0f ns\n", check_request);
  std::printf("statvfs (once per group write):        %7.0f ns\n", statvfs_ns);
  std::printf("(checksum %lld)\n", static_cast<long long>(sink));
  return 0;
}

}  // namespace
}  // namespace loyalty::accrual

int main(int argc, char** argv) { return loyalty::accrual::Main(argc, argv); }
