// kill -9 of ACCRUAL (not redemption) three times while many redemptions of scarce stock run
// concurrently, some members short of points: the kills cut the saga's one accrual call (a
// hold captured in the same change) in flight, and one outage outlasts the holds' TTL. Accrual
// restarts on the same data dir and the same pinned gRPC port, so redemption's channel finds it
// again. After every saga settled, both services must agree: every voucher paid for by exactly one
// capture, every failed redemption with its hold released and its stock back, no hold placed twice,
// nothing stuck.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/kafka.h"
#include "loyalty/v1/purchases.pb.h"
#include "loyalty/v1/redemption.grpc.pb.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

constexpr int kMembers = 24;
constexpr int64_t kPrice = 1'000;
constexpr int64_t kStock = 120;     // members can afford 132 units between them: stock is scarce
constexpr int kHoldTtlSeconds = 2;  // short, so that one kill can outlive the holds it cut
constexpr int kClientRetries = 3;   // a till retries an unknown outcome a few times, then leaves
const char kReward[] = "accrual-crash-gc";

// Points of member i: 3,000..8,000, so members run short after 3..8 units.
int64_t PointsOf(int i) { return 3'000 + (i % 6) * 1'000; }
std::string MemberId(int i) { return "acrash-" + std::to_string(i); }

// A port that was free a moment ago: accrual must come back on the same address after each
// kill, because redemption was started with --accrual.address pointing at it.
int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool Unknown(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

int64_t GaugeValue(const std::string& metrics, const std::string& name) {
  auto at = metrics.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(metrics.substr(at + name.size() + 2));
}

class Cluster {
 public:
  Cluster()
      : kafka_(dir_.Sub("kafka")),
        accrual_port_(PickFreePort()),
        accrual_("accrual", dir_.path(), kafka_.bootstrap(),
                 {"--grpc.address=127.0.0.1:" + std::to_string(accrual_port_)}),
        redemption_("redemption", dir_.path(), kafka_.bootstrap(),
                    {"--accrual.address=127.0.0.1:" + std::to_string(accrual_port_),
                     "--redemption.resume_interval_ms=200",
                     "--redemption.redeem_hold_ttl_seconds=" + std::to_string(kHoldTtlSeconds)}) {
    StartAccrual();
    redemption_.Start();
    stub_ = v1::RedemptionService::NewStub(
        grpc::CreateChannel(redemption_.grpc_address(), TestChannelCredentials()));
  }

  void StartAccrual() {
    accrual_.Start();
    if (accrual_.grpc_port() != accrual_port_) {
      throw std::runtime_error("accrual came back on port " + std::to_string(accrual_.grpc_port()));
    }
    accrual_client_ = std::make_unique<AccrualClient>(accrual_.grpc_address());
  }

  // Enrolls the members and earns them their points through purchases on Kafka; returns each
  // member's available balance once the purchases were applied.
  std::map<std::string, int64_t> Earn() {
    auto producer = KafkaProducer::Create({kafka_.bootstrap()});
    if (!producer.ok()) throw std::runtime_error(producer.status().ToString());
    for (int i = 0; i < kMembers; ++i) {
      char phone[32];
      std::snprintf(phone, sizeof phone, "+38063%07d", i);
      grpc::Status s = accrual_client_->Enroll(MemberId(i), phone);
      if (!s.ok()) throw std::runtime_error("enroll: " + s.error_message());
      v1::PurchaseEvent p;
      p.set_purchase_id("p-" + MemberId(i));
      p.set_member_id(MemberId(i));
      p.set_store_id("kyiv-01");
      p.set_amount_minor(PointsOf(i) * 100);  // Bronze: 1 point per 100 minor units
      p.set_currency("UAH");
      (*producer)->Produce("loyalty.purchases.v1", MemberId(i), p.SerializeAsString());
    }
    (*producer)->Flush(30'000);
    std::map<std::string, int64_t> initial;
    for (int i = 0; i < kMembers; ++i) {
      bool earned = Eventually([&] { return Balance(MemberId(i)).available() >= PointsOf(i); });
      if (!earned) throw std::runtime_error("no points for " + MemberId(i));
      initial[MemberId(i)] = Balance(MemberId(i)).available();
    }
    return initial;
  }

  v1::Balance Balance(const std::string& member) {
    v1::Balance b;
    grpc::Status s = accrual_client_->Balance(member, &b);
    if (!s.ok()) throw std::runtime_error("balance " + member + ": " + s.error_message());
    return b;
  }

  std::vector<v1::LedgerEntry> Ledger(const std::string& member) {
    std::vector<v1::LedgerEntry> entries;
    v1::ListLedgerRequest request;
    request.set_member_id(member);
    request.set_page_size(1000);
    for (;;) {
      v1::ListLedgerResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      grpc::Status s = accrual_client_->stub().ListLedger(&context, request, &response);
      if (!s.ok()) throw std::runtime_error("ledger " + member + ": " + s.error_message());
      entries.insert(entries.end(), response.entries().begin(), response.entries().end());
      if (response.next_page_token().empty()) return entries;
      request.set_page_token(response.next_page_token());
    }
  }

  grpc::Status Redeem(const std::string& member, int64_t quantity, const std::string& key,
                      v1::Redemption* out) {
    v1::RedeemRequest request;
    request.set_member_id(member);
    request.set_reward_id(kReward);
    request.set_quantity(quantity);
    request.set_idempotency_key(key);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    return stub_->Redeem(&context, request, out);
  }

  std::vector<v1::Redemption> Redemptions(const std::string& member) {
    v1::ListRedemptionsRequest request;
    request.set_member_id(member);
    v1::ListRedemptionsResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status s = stub_->ListRedemptions(&context, request, &response);
    if (!s.ok()) throw std::runtime_error("list: " + s.error_message());
    return {response.redemptions().begin(), response.redemptions().end()};
  }

  v1::Reward Reward() {
    v1::GetRewardRequest request;
    request.set_reward_id(kReward);
    v1::Reward out;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status s = stub_->GetReward(&context, request, &out);
    if (!s.ok()) throw std::runtime_error("get reward: " + s.error_message());
    return out;
  }

  void CreateReward() {
    v1::CreateRewardRequest request;
    auto* r = request.mutable_reward();
    r->set_reward_id(kReward);
    r->set_name("Gift card for the crash test");
    r->set_kind(v1::REWARD_KIND_GIFT_CARD);
    r->mutable_gift_card()->set_value_minor(50'000);
    r->set_points_price(kPrice);
    r->set_stock_total(kStock);
    r->set_active(true);
    request.set_idempotency_key("create-" + std::string(kReward));
    v1::Reward out;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status s = stub_->CreateReward(&context, request, &out);
    if (!s.ok()) throw std::runtime_error("create reward: " + s.error_message());
  }

  ServiceProcess& accrual() { return accrual_; }
  ServiceProcess& redemption() { return redemption_; }

 private:
  TempDir dir_;
  DevKafka kafka_;
  int accrual_port_;
  ServiceProcess accrual_;
  ServiceProcess redemption_;
  std::unique_ptr<AccrualClient> accrual_client_;
  std::unique_ptr<v1::RedemptionService::Stub> stub_;
};

// What one logical redemption (one idempotency key) ended as, seen by the client.
struct Attempt {
  std::string member;
  std::string key;
  int64_t quantity = 1;
  grpc::Status last;
  std::string redemption_id;  // when the last answer was OK
};

TEST(RedemptionAccrualCrashTest, KillNineOfAccrualMidSagaSettlesWithBothServicesAgreeing) {
  Cluster cluster;
  std::map<std::string, int64_t> initial = cluster.Earn();
  cluster.CreateReward();

  // Rounds: in each, every member fires one redemption at the same moment, so 24 sagas are
  // in flight together. Three rounds are cut by a kill -9 of accrual while their sagas are
  // placing holds and capturing; the others run undisturbed. Stock and points run out over
  // the rounds, so the late kill also cuts holds that accrual refuses.
  constexpr int kRounds = 8;
  constexpr int kKills = 3;
  // round -> how many of its answers come back before the kill. The sagas of a round move
  // through the group commits of both services almost in step, so once a few answers are
  // back the round is over: the kill comes at the first answer, when the others are placing
  // holds or capturing. The rounds differ in what is left: in round 1 everyone can pay, by
  // round 4 poorer members are refused their holds and the stock is nearly gone.
  const std::map<int, int> kill_after_answers = {{1, 1}, {2, 1}, {4, 1}};
  std::vector<std::deque<Attempt>> attempts(kMembers);
  std::mutex mu;
  std::condition_variable cv;
  int round = -1, done_in_round = 0;
  int epoch = 0;  // which kill the unknown answers are blamed on
  std::vector<int> cut_answers(kKills + 1, 0);
  std::vector<std::set<std::string>> cut_keys(kKills + 1);
  std::map<std::string, int> codes;

  std::vector<std::thread> clients;
  for (int i = 0; i < kMembers; ++i) {
    clients.emplace_back([&, i] {
      for (int n = 0; n < kRounds; ++n) {
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return round >= n; });
        }
        Attempt& a = attempts[i].emplace_back();
        a.member = MemberId(i);
        a.key = "acrash-" + std::to_string(i) + "-" + std::to_string(n);
        a.quantity = (i + n) % 4 == 0 ? 2 : 1;
        for (int tries = 0;; ++tries) {
          v1::Redemption r;
          a.last = cluster.Redeem(a.member, a.quantity, a.key, &r);
          if (a.last.ok()) a.redemption_id = r.redemption_id();
          if (!Unknown(a.last)) break;
          {
            std::lock_guard lock(mu);
            ++cut_answers[epoch];
            cut_keys[epoch].insert(a.key);
          }
          if (tries >= kClientRetries) break;  // leaves it to redemption's resume loop
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        std::lock_guard lock(mu);
        std::string message = a.last.error_message().substr(0, 40);
        if (message.rfind("accrual: ", 0) == 0) message = "accrual: ...";
        ++codes[std::to_string(a.last.error_code()) + " " + message];
        ++done_in_round;
        cv.notify_all();
      }
    });
  }

  auto pending = [&] {
    return GaugeValue(HttpGet(cluster.redemption().metrics_port(), "/metrics"),
                      "redemption_sagas_pending");
  };
  auto ms = [](auto d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  int kills = 0, reserved_at_kills = 0, held_at_kills = 0;
  bool outlived_holds = false;
  // The sagas a kill past the TTL found waiting for accrual's answer.
  std::set<std::string> cut_at_long_kill;
  for (int n = 0; n < kRounds; ++n) {
    auto started = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu);
      round = n;
      done_in_round = 0;
    }
    cv.notify_all();
    auto kill = kill_after_answers.find(n);
    if (kill != kill_after_answers.end()) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return done_in_round >= kill->second; });
        epoch = ++kills;
        // Under the lock: no client can finish between the count and the signal.
        cluster.accrual().process().Signal(SIGKILL);
      }
      cluster.accrual().process().Wait();
      auto killed_at = std::chrono::steady_clock::now();
      // Where the sagas were cut, read from redemption (still up): RESERVED ones had their
      // hold-and-capture in flight (or not yet sent). None may be HELD: with this accrual the
      // saga never stops between a hold and its capture.
      int reserved = 0, held = 0;
      std::set<std::string> reserved_ids;
      for (int i = 0; i < kMembers; ++i) {
        for (const auto& r : cluster.Redemptions(MemberId(i))) {
          held += r.state() == v1::REDEMPTION_STATE_HELD;
          if (r.state() == v1::REDEMPTION_STATE_RESERVED) {
            ++reserved;
            reserved_ids.insert(r.redemption_id());
          }
        }
      }
      reserved_at_kills += reserved;
      held_at_kills += held;
      // Down long enough for the clients to see it and retry into the void. The first kill
      // that cut sagas stays down past the holds' TTL: a spend accrual committed before it
      // died is answered from its idempotency record, however late; any other is made anew.
      bool outlive = reserved > 0 && !outlived_holds;
      if (outlive) {
        outlived_holds = true;
        cut_at_long_kill = reserved_ids;
      }
      std::this_thread::sleep_for(
          std::chrono::milliseconds(outlive ? kHoldTtlSeconds * 1000 + 1000 : 300 + 200 * kills));
      cluster.StartAccrual();
      auto restarted_at = std::chrono::steady_clock::now();
      // Next round only once redemption drained what the kill left: it talks to accrual
      // again, so the next kill cuts live traffic, not a channel still in reconnect backoff.
      ASSERT_TRUE(Eventually([&] { return pending() == 0; }, std::chrono::seconds(120)))
          << "redemption did not drain after restart " << kills << "\n"
          << cluster.redemption().process().LogTail();
      std::printf(
          "kill %d in round %d after %d of its answers, %lld ms after its start: %d sagas "
          "waiting for accrual, %d held; down %lld ms%s, drained %lld ms after the "
          "restart\n",
          kills, n, kill->second, ms(killed_at - started), reserved, held,
          ms(restarted_at - killed_at), outlive ? " (past the holds' TTL)" : "",
          ms(std::chrono::steady_clock::now() - restarted_at));
    }
    std::unique_lock lock(mu);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(120), [&] { return done_in_round == kMembers; }))
        << "round " << n << " did not finish";
    std::printf("round %d done in %lld ms\n", n, ms(std::chrono::steady_clock::now() - started));
  }
  for (auto& t : clients) t.join();
  std::vector<Attempt> all_attempts;
  for (const auto& per_client : attempts) {
    all_attempts.insert(all_attempts.end(), per_client.begin(), per_client.end());
  }
  // Some kill cut the accrual call (the states are read right after each kill), and no saga
  // ever waited between its hold and its capture.
  EXPECT_GT(reserved_at_kills, 0) << "no kill cut a saga";
  EXPECT_EQ(held_at_kills, 0) << "a saga held points without capturing them in the same call";
  for (int k = 1; k <= kKills; ++k) {
    std::printf("kill %d cut %zu redemptions (%d unknown answers, retries included)\n", k,
                cut_keys[k].size(), cut_answers[k]);
  }
  EXPECT_EQ(cut_answers[0], 0) << "unknown outcomes before any kill";
  // A kill whose round was already answered cuts nothing (rare: the round's burst can end
  // between the first answer and the signal); two of three must have cut live sagas.
  int kills_that_cut = 0;
  for (int k = 1; k <= kKills; ++k) kills_that_cut += cut_keys[k].empty() ? 0 : 1;
  EXPECT_GE(kills_that_cut, 2) << "the kills landed after the work: the test proves nothing";
  std::printf("%zu redemptions attempted\n", all_attempts.size());
  for (const auto& [code, n] : codes) std::printf("  %5d x %s\n", n, code.c_str());

  // Settlement: redemption's resume loop drives every saga left behind to an end.
  auto settled = [&] {
    for (int i = 0; i < kMembers; ++i) {
      for (const auto& r : cluster.Redemptions(MemberId(i))) {
        if (r.state() != v1::REDEMPTION_STATE_COMPLETED &&
            r.state() != v1::REDEMPTION_STATE_FAILED) {
          return false;
        }
      }
    }
    return GaugeValue(HttpGet(cluster.redemption().metrics_port(), "/metrics"),
                      "redemption_sagas_pending") == 0;
  };
  ASSERT_TRUE(Eventually(settled, std::chrono::seconds(120)))
      << cluster.redemption().process().LogTail() << "\n"
      << cluster.accrual().process().LogTail();

  // Keys whose client gave up on an unknown outcome: the same key now returns the saga's end
  // and starts nothing new.
  size_t redemptions_before = 0;
  for (int i = 0; i < kMembers; ++i) redemptions_before += cluster.Redemptions(MemberId(i)).size();
  int retried_unknown = 0;
  for (auto& a : all_attempts) {
    if (!Unknown(a.last)) continue;
    ++retried_unknown;
    v1::Redemption r;
    a.last = cluster.Redeem(a.member, a.quantity, a.key, &r);
    a.redemption_id = a.last.ok() ? r.redemption_id() : "";
    EXPECT_FALSE(Unknown(a.last)) << a.key << " still unknown: " << a.last.error_message();
  }
  size_t redemptions_after = 0;
  for (int i = 0; i < kMembers; ++i) redemptions_after += cluster.Redemptions(MemberId(i)).size();
  EXPECT_EQ(redemptions_after, redemptions_before) << "a retried key started a new saga";
  std::printf("%d keys left unknown by their client, all settled by the resume loop\n",
              retried_unknown);

  // The invariants across both services.
  std::set<std::string> client_completed;
  for (const auto& a : all_attempts) {
    if (a.last.ok()) client_completed.insert(a.redemption_id);
  }
  int64_t completed_units = 0, completed = 0, failed = 0, vouchers = 0, holds_in_ledger = 0;
  int64_t compensated = 0;  // failed after their hold was placed: none with one-call sagas
  int64_t long_kill_completed = 0, long_kill_failed = 0;
  std::set<std::string> codes_seen;
  for (int i = 0; i < kMembers; ++i) {
    const std::string member = MemberId(i);
    int64_t captured = 0;
    std::set<std::string> completed_holds, failed_holds, known_holds;
    for (const auto& r : cluster.Redemptions(member)) {
      if (!r.hold_id().empty()) known_holds.insert(r.hold_id());
      if (r.state() == v1::REDEMPTION_STATE_COMPLETED) {
        ++completed;
        EXPECT_EQ(r.points(), kPrice * r.quantity()) << r.redemption_id();
        EXPECT_EQ(r.points_captured(), r.points()) << r.redemption_id();
        EXPECT_EQ(r.vouchers_size(), r.quantity()) << r.redemption_id();
        EXPECT_FALSE(r.hold_id().empty()) << r.redemption_id();
        for (const auto& v : r.vouchers()) {
          EXPECT_TRUE(codes_seen.insert(v.code()).second) << "voucher issued twice: " << v.code();
          EXPECT_EQ(v.status(), v1::VOUCHER_STATUS_ACTIVE) << v.code();
        }
        vouchers += r.vouchers_size();
        captured += r.points_captured();
        completed_units += r.quantity();
        completed_holds.insert(r.hold_id());
      } else {
        ASSERT_EQ(r.state(), v1::REDEMPTION_STATE_FAILED)
            << r.redemption_id() << " stuck in " << v1::RedemptionState_Name(r.state());
        ++failed;
        EXPECT_EQ(r.vouchers_size(), 0) << r.redemption_id();
        EXPECT_EQ(r.points_captured(), 0) << r.redemption_id();
        EXPECT_FALSE(client_completed.count(r.redemption_id()))
            << r.redemption_id() << " was answered as completed to its client";
        if (!r.hold_id().empty()) {
          failed_holds.insert(r.hold_id());
          ++compensated;
        }
      }
    }

    v1::Balance b = cluster.Balance(member);
    EXPECT_EQ(b.lifetime_spent(), captured) << member;  // every voucher paid, nothing else
    EXPECT_EQ(b.held(), 0) << member;                   // no hold outlives its saga
    EXPECT_EQ(b.available(), initial[member] - captured) << member;

    // accrual's ledger: each hold placed once (retries after the kills reused the key), each
    // one belongs to a redemption, captured exactly when the redemption completed, voided or
    // expired exactly when it failed.
    std::map<std::string, int> placed, capture_entries, release_entries;
    for (const auto& e : cluster.Ledger(member)) {
      if (e.kind() == v1::LEDGER_KIND_HOLD) ++placed[e.source_id()];
      if (e.kind() == v1::LEDGER_KIND_CAPTURE) {
        ++capture_entries[e.source_id()];
      }
      if (e.kind() == v1::LEDGER_KIND_VOID || e.kind() == v1::LEDGER_KIND_HOLD_EXPIRED) {
        ++release_entries[e.source_id()];
      }
    }
    holds_in_ledger += static_cast<int64_t>(placed.size());
    for (const auto& [hold, n] : placed) {
      EXPECT_EQ(n, 1) << member << " hold " << hold << " placed " << n << " times";
      EXPECT_TRUE(known_holds.count(hold)) << member << ": hold " << hold << " of no redemption";
    }
    for (const auto& hold : completed_holds) {
      EXPECT_EQ(capture_entries[hold], 1) << member << " completed hold " << hold;
      EXPECT_EQ(release_entries[hold], 0) << member << " completed hold " << hold;
    }
    for (const auto& hold : failed_holds) {
      EXPECT_EQ(capture_entries[hold], 0) << member << " failed hold " << hold;
      EXPECT_EQ(release_entries[hold], 1) << member << " failed hold " << hold;
    }
    size_t captures = 0;
    for (const auto& [hold, n] : capture_entries) captures += n;
    EXPECT_EQ(captures, completed_holds.size()) << member;

    // The sagas cut by the kill that outlived the holds' TTL: completed with one capture, or
    // failed (short of points) without ever holding anything. A hold expiring cannot undo
    // a spend: it is captured in the change that placed it.
    for (const auto& r : cluster.Redemptions(member)) {
      if (!cut_at_long_kill.count(r.redemption_id())) continue;
      if (r.state() == v1::REDEMPTION_STATE_COMPLETED) {
        ++long_kill_completed;
        EXPECT_EQ(capture_entries[r.hold_id()], 1) << r.redemption_id();
      } else {
        ++long_kill_failed;
        EXPECT_TRUE(r.hold_id().empty()) << r.redemption_id() << ": failed after a hold";
      }
    }
  }
  EXPECT_EQ(static_cast<int64_t>(client_completed.size()), completed)
      << "every completed redemption was answered OK to its client (after the retries)";

  v1::Reward reward = cluster.Reward();
  EXPECT_EQ(reward.stock_used(), completed_units) << "failed sagas gave their stock back";
  EXPECT_LE(completed_units, kStock);
  EXPECT_EQ(vouchers, completed_units);
  EXPECT_GT(completed, 0);
  EXPECT_GT(failed, 0) << "no member ran short: no hold was refused";
  EXPECT_EQ(compensated, 0) << "a saga failed after its hold was placed";
  if (outlived_holds) {
    EXPECT_EQ(long_kill_completed + long_kill_failed,
              static_cast<int64_t>(cut_at_long_kill.size()));
    std::printf(
        "the kill past the TTL cut %zu sagas: %lld completed (each captured once), %lld "
        "failed short of points without a hold\n",
        cut_at_long_kill.size(), static_cast<long long>(long_kill_completed),
        static_cast<long long>(long_kill_failed));
  }
  std::printf(
      "completed %lld redemptions (%lld units of %lld), %lld failed (%lld after their "
      "hold, compensated); %lld holds in accrual's ledger, each placed once and closed once\n",
      static_cast<long long>(completed), static_cast<long long>(completed_units),
      static_cast<long long>(kStock), static_cast<long long>(failed),
      static_cast<long long>(compensated), static_cast<long long>(holds_in_ledger));
}

}  // namespace
}  // namespace loyalty::testing
