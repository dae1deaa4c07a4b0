// loyaltyctl demo: a feed for local runs. Enrolls demo members over gRPC, publishes random
// purchases (and a few refunds) to Kafka, waits until accrual has applied them and prints the
// balances. Everything is a function of --members, --purchases and --seed, so running it
// again with the same flags enrolls nobody new and publishes the same purchase and refund
// ids, which accrual deduplicates.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <limits>
#include <random>
#include <thread>

#include "loyalty/v1/purchases.pb.h"
#include "tools/loyaltyctl/commands.h"
#include "tools/loyaltyctl/format.h"

namespace loyalty::ctl {
namespace {

using Stub = v1::AccrualService::Stub;
using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kMinAmountMinor = 50'00;    // 50.00 UAH
constexpr int64_t kMaxAmountMinor = 5000'00;  // 5000.00 UAH
constexpr uint64_t kRefundPercent = 5;
constexpr auto kPollInterval = std::chrono::milliseconds(250);
constexpr auto kGiveUpAfter = std::chrono::seconds(30);
// The total counts as settled when it has not changed for this long: briefly once it has
// moved, longer while nothing has arrived yet (accrual may still be starting or catching up).
constexpr auto kQuietAfterChange = std::chrono::seconds(1);
constexpr auto kQuietBeforeChange = std::chrono::seconds(5);

std::string Numbered(const char* format, int64_t n) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, static_cast<long long>(n));
  return buffer;
}

std::string CallError(const std::string& what, const grpc::Status& status) {
  return what + ": " + GrpcCodeName(status.error_code()) + ": " + status.error_message();
}

// Enrolls demo-NNNN (or finds it enrolled) and returns whether it is active and can earn.
bool EnsureMember(Ctl& ctl, int64_t n, const std::string& member_id) {
  v1::EnrollMemberRequest request;
  request.set_member_id(member_id);
  request.set_phone(Numbered("+38067000%04lld", n));
  // A key of its own per member, stable across runs: a rerun gets the first answer back.
  request.set_idempotency_key("demo-enroll-" + member_id);
  v1::Member member;
  grpc::Status status = ctl.TryCall(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.EnrollMember(c, request, &member); });
  if (!status.ok() && status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
    throw CommandFailed(CallError("enroll " + member_id, status));
  }
  // The member may exist from an earlier run, or the phone may belong to someone else, or
  // the member may have been erased since: ask.
  v1::GetMemberRequest get;
  get.set_member_id(member_id);
  status = ctl.TryCall(
      [&](Stub& stub, grpc::ClientContext* c) { return stub.GetMember(c, get, &member); });
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    std::cerr << "loyaltyctl: skipping " << member_id << ": phone " << request.phone()
              << " belongs to another member\n";
    return false;
  }
  if (!status.ok()) throw CommandFailed(CallError("get " + member_id, status));
  if (member.status() != v1::MEMBER_STATUS_ACTIVE) {
    std::cerr << "loyaltyctl: skipping " << member_id << ": member is "
              << StatusName(member.status()) << "\n";
    return false;
  }
  return true;
}

std::vector<v1::GetBalanceResponse> Balances(Ctl& ctl, const std::vector<std::string>& ids) {
  std::vector<v1::GetBalanceResponse> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    v1::GetBalanceRequest request;
    request.set_member_id(ids[i]);
    grpc::Status status = ctl.TryCall(
        [&](Stub& stub, grpc::ClientContext* c) { return stub.GetBalance(c, request, &out[i]); });
    if (!status.ok()) throw CommandFailed(CallError("balance of " + ids[i], status));
  }
  return out;
}

int64_t TotalEarned(const std::vector<v1::GetBalanceResponse>& balances) {
  int64_t total = 0;
  for (const auto& b : balances) total += b.balance().lifetime_earned();
  return total;
}

void PrintBalances(const std::vector<v1::GetBalanceResponse>& balances) {
  Table table({{"MEMBER"},
               {"TIER"},
               {"AVAILABLE", Table::kRight},
               {"PENDING", Table::kRight},
               {"HELD", Table::kRight},
               {"DEBT", Table::kRight},
               {"EARNED", Table::kRight},
               {"SPENT", Table::kRight},
               {"CLAWED BACK", Table::kRight}});
  v1::Balance total;
  for (const auto& response : balances) {
    const v1::Balance& b = response.balance();
    table.AddRow({response.member_id(), response.tier(), std::to_string(b.available()),
                  std::to_string(b.pending()), std::to_string(b.held()), std::to_string(b.debt()),
                  std::to_string(b.lifetime_earned()), std::to_string(b.lifetime_spent()),
                  std::to_string(b.lifetime_clawed_back())});
    total.set_available(total.available() + b.available());
    total.set_pending(total.pending() + b.pending());
    total.set_held(total.held() + b.held());
    total.set_debt(total.debt() + b.debt());
    total.set_lifetime_earned(total.lifetime_earned() + b.lifetime_earned());
    total.set_lifetime_spent(total.lifetime_spent() + b.lifetime_spent());
    total.set_lifetime_clawed_back(total.lifetime_clawed_back() + b.lifetime_clawed_back());
  }
  table.AddRow({"TOTAL", "", std::to_string(total.available()), std::to_string(total.pending()),
                std::to_string(total.held()), std::to_string(total.debt()),
                std::to_string(total.lifetime_earned()), std::to_string(total.lifetime_spent()),
                std::to_string(total.lifetime_clawed_back())});
  table.Print(std::cout);
}

}  // namespace

void RunDemo(Ctl& ctl, const Args& args) {
  int64_t member_count = args.GetInt("members", 20, 1, 9999);
  int64_t purchase_count = args.GetInt("purchases", 200, 0, 10'000'000);
  int64_t seed = args.GetInt("seed", 1, 0, std::numeric_limits<int64_t>::max());
  bool human = !ctl.json();

  // 1. Members demo-0001... with phones +380670000001...
  std::vector<std::string> ids;
  for (int64_t n = 1; n <= member_count; ++n) {
    std::string member_id = Numbered("demo-%04lld", n);
    if (EnsureMember(ctl, n, member_id)) ids.push_back(member_id);
  }
  if (ids.empty()) throw CommandFailed("no demo member can earn points");
  if (human) {
    std::cout << "members    " << ids.size() << " ready (" << ids.front() << " .. " << ids.back()
              << ")\n";
  }
  int64_t baseline = TotalEarned(Balances(ctl, ids));

  // 2. Purchases and refunds. The draws are plain modulo of the engine's output: unlike the
  // std distributions, that is the same sequence with every standard library.
  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  int64_t refund_count = 0;
  for (int64_t n = 1; n <= purchase_count; ++n) {
    v1::PurchaseEvent purchase;
    purchase.set_purchase_id("demo-" + std::to_string(seed) + "-" + std::to_string(n));
    purchase.set_member_id(ids[rng() % ids.size()]);
    purchase.set_amount_minor(
        kMinAmountMinor + static_cast<int64_t>(rng() % (kMaxAmountMinor - kMinAmountMinor + 1)));
    purchase.set_currency("UAH");
    purchase.set_store_id(Numbered("demo-store-%02lld", static_cast<int64_t>(rng() % 5 + 1)));
    purchase.set_occurred_at_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
    ctl.Send(kPurchasesTopic, purchase.member_id(), purchase.SerializeAsString());
    if (rng() % 100 < kRefundPercent) {
      v1::RefundEvent refund;
      refund.set_refund_id(purchase.purchase_id() + "-refund");
      refund.set_purchase_id(purchase.purchase_id());
      refund.set_member_id(purchase.member_id());
      refund.set_amount_minor(1 + static_cast<int64_t>(rng() % purchase.amount_minor()));
      refund.set_occurred_at_ms(purchase.occurred_at_ms());
      ctl.Send(kRefundsTopic, refund.member_id(), refund.SerializeAsString());
      ++refund_count;
    }
  }
  std::string error;
  if (int64_t failed = ctl.AwaitDeliveries(&error); failed > 0) {
    throw CommandFailed(std::to_string(failed) + " of " +
                        std::to_string(purchase_count + refund_count) +
                        " events not published to " + ctl.options().brokers + ": " + error);
  }
  if (human) {
    std::cout << "published  " << purchase_count << " purchases, " << refund_count << " refunds to "
              << ctl.options().brokers << "\n";
  }

  // 3. Wait until accrual has applied them: the total earned stops changing.
  auto start = SteadyClock::now();
  auto last_change = start;
  int64_t total = baseline;
  bool settled = purchase_count == 0;
  std::vector<v1::GetBalanceResponse> balances;
  while (true) {
    balances = Balances(ctl, ids);
    auto now = SteadyClock::now();
    if (int64_t current = TotalEarned(balances); current != total) {
      total = current;
      last_change = now;
    }
    if (settled) break;
    auto quiet = total != baseline ? kQuietAfterChange : kQuietBeforeChange;
    if (now - last_change >= quiet) {
      settled = true;
      break;
    }
    if (now - start >= kGiveUpAfter) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  if (!human) {
    for (const auto& response : balances) ctl.PrintJson(response);
  } else {
    double seconds = std::chrono::duration<double>(last_change - start).count();
    char line[160];
    if (settled) {
      std::snprintf(line, sizeof(line),
                    "applied    +%lld points earned (settled %.1f s after publishing)\n",
                    static_cast<long long>(total - baseline), seconds);
    } else {
      std::snprintf(line, sizeof(line),
                    "applied    +%lld points earned so far, still changing after %lld s\n",
                    static_cast<long long>(total - baseline),
                    static_cast<long long>(
                        std::chrono::duration_cast<std::chrono::seconds>(kGiveUpAfter).count()));
    }
    std::cout << line << "\n";
    PrintBalances(balances);
  }
  if (!settled) std::cerr << "loyaltyctl: balances were still changing when the demo gave up\n";
}

}  // namespace loyalty::ctl
