// referral as a real process between the dev broker and a real accrual: a referral through
// to both balances, duplicates of every event, kill -9 while bonuses are being paid, and a
// refund that reverses both bonuses.
#include <gtest/gtest.h>

#include <regex>

#include "common/kafka.h"
#include "loyalty/v1/purchases.pb.h"
#include "loyalty/v1/referral.grpc.pb.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace loyalty::testing {
namespace {

constexpr int64_t kReferrerBonus = 500;
constexpr int64_t kInviteeBonus = 250;

class ReferralIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    accrual.Start();
    accrual_client = std::make_unique<AccrualClient>(accrual.grpc_address());
    referral = std::make_unique<ServiceProcess>(
        "referral", dir.path(), kafka.bootstrap(),
        std::vector<std::string>{"--accrual.address=" + accrual.grpc_address()});
    referral->Start();
    Connect();
    auto producer = KafkaProducer::Create(kafka.bootstrap());
    ASSERT_TRUE(producer.ok());
    producer_ = std::move(*producer);
  }

  void Connect() {
    stub = v1::ReferralService::NewStub(
        grpc::CreateChannel(referral->grpc_address(), grpc::InsecureChannelCredentials()));
  }

  template <typename Call>
  grpc::Status Rpc(Call call) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return call(&context);
  }

  std::string Code(const std::string& member_id) {
    v1::GetReferralCodeRequest request;
    request.set_member_id(member_id);
    v1::ReferralCode code;
    grpc::Status s = Rpc([&](auto* c) { return stub->GetReferralCode(c, request, &code); });
    EXPECT_TRUE(s.ok()) << s.error_message();
    return code.code();
  }

  v1::Referral Apply(const std::string& invitee, const std::string& referrer) {
    v1::ApplyReferralRequest request;
    request.set_invitee_id(invitee);
    request.set_code(Code(referrer));
    request.set_idempotency_key("apply-" + invitee);
    v1::Referral r;
    grpc::Status s = Rpc([&](auto* c) { return stub->ApplyReferral(c, request, &r); });
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r;
  }

  v1::Referral Get(const std::string& referral_id) {
    v1::GetReferralRequest request;
    request.set_referral_id(referral_id);
    v1::Referral r;
    Rpc([&](auto* c) { return stub->GetReferral(c, request, &r); });
    return r;
  }

  void Purchase(const std::string& member_id, const std::string& purchase_id, int64_t amount,
                int copies = 1) {
    v1::PurchaseEvent p;
    p.set_purchase_id(purchase_id);
    p.set_member_id(member_id);
    p.set_store_id("kyiv-01");
    p.set_amount_minor(amount);
    p.set_currency("UAH");
    for (int i = 0; i < copies; ++i) {
      ASSERT_TRUE(
          producer_->Produce("loyalty.purchases.v1", member_id, p.SerializeAsString()).ok());
    }
    ASSERT_TRUE(producer_->Flush(10'000));
  }

  void Refund(const std::string& member_id, const std::string& refund_id,
              const std::string& purchase_id, int64_t amount, int copies = 1) {
    v1::RefundEvent r;
    r.set_refund_id(refund_id);
    r.set_purchase_id(purchase_id);
    r.set_member_id(member_id);
    r.set_amount_minor(amount);
    for (int i = 0; i < copies; ++i) {
      ASSERT_TRUE(producer_->Produce("loyalty.refunds.v1", member_id, r.SerializeAsString()).ok());
    }
    ASSERT_TRUE(producer_->Flush(10'000));
  }

  // Every message on loyalty.events.v1 so far, published again as a relay would after a crash.
  int RepublishAllEvents() {
    auto consumer = KafkaConsumer::Create(kafka.bootstrap(), "test-republisher");
    EXPECT_TRUE(consumer.ok());
    EXPECT_TRUE((*consumer)->AssignAll({"loyalty.events.v1"}, {}).ok());
    std::vector<KafkaMessage> all;
    while (auto m = (*consumer)->Poll(1000)) all.push_back(std::move(*m));
    for (const auto& m : all) {
      EXPECT_TRUE(producer_->Produce(m.topic, m.key, m.value).ok());
    }
    EXPECT_TRUE(producer_->Flush(10'000));
    return static_cast<int>(all.size());
  }

  int64_t Available(const std::string& member_id) {
    v1::Balance balance;
    return accrual_client->Balance(member_id, &balance).ok() ? balance.available() : -1;
  }

  // Ledger entries of the member made by referral (awards and their reversals).
  std::vector<v1::LedgerEntry> ReferralEntries(const std::string& member_id) {
    v1::ListLedgerRequest request;
    request.set_member_id(member_id);
    request.set_page_size(1000);
    v1::ListLedgerResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(accrual_client->stub().ListLedger(&context, request, &response).ok());
    std::vector<v1::LedgerEntry> entries;
    for (const auto& e : response.entries()) {
      if (e.source_id().find("referral:") != std::string::npos) entries.push_back(e);
    }
    return entries;
  }

  double Metric(int port, const std::string& name_and_labels) {
    std::string body = HttpGet(port, "/metrics");
    std::stringstream ss(body);
    double total = 0;
    for (std::string line; std::getline(ss, line);) {
      if (line.rfind(name_and_labels, 0) == 0) total += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return total;
  }

  TempDir dir;
  DevKafka kafka{dir.Sub("kafka")};
  ServiceProcess accrual{"accrual", dir.path(), kafka.bootstrap()};
  std::unique_ptr<ServiceProcess> referral;
  std::unique_ptr<AccrualClient> accrual_client;
  std::unique_ptr<v1::ReferralService::Stub> stub;
  std::unique_ptr<KafkaProducer> producer_;
};

TEST_F(ReferralIntegrationTest, ReferralPaysBothOnceDuplicatesChangeNothingRefundReverses) {
  ASSERT_TRUE(accrual_client->Enroll("alice", "+380671110001").ok());
  ASSERT_TRUE(accrual_client->Enroll("bob", "+380671110002").ok());
  v1::Referral r = Apply("bob", "alice");
  ASSERT_EQ(r.status(), v1::REFERRAL_STATUS_PENDING) << r.DebugString();

  Purchase("bob", "p-1", 20'000, /*copies=*/2);  // 1% = 200 points, published twice
  ASSERT_TRUE(Eventually([&] {
    return Available("alice") == kReferrerBonus && Available("bob") == 200 + kInviteeBonus;
  })) << "alice="
      << Available("alice") << " bob=" << Available("bob") << "\n"
      << referral->process().LogTail();
  ASSERT_TRUE(
      Eventually([&] { return Get(r.referral_id()).status() == v1::REFERRAL_STATUS_REWARDED; }));

  // Every event on loyalty.events.v1 again (accrual's and referral's own).
  int republished = RepublishAllEvents();
  EXPECT_GE(republished, 6);
  ASSERT_TRUE(Eventually([&] {
    return Metric(referral->metrics_port(), "kafka_messages_consumed_total") >= 2 * republished;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Available("alice"), kReferrerBonus);
  EXPECT_EQ(Available("bob"), 200 + kInviteeBonus);
  EXPECT_EQ(ReferralEntries("alice").size(), 1u);
  EXPECT_EQ(ReferralEntries("bob").size(), 1u);
  // bob's points_earned is the one republished event referral acts on: a duplicate by id.
  EXPECT_GE(Metric(referral->metrics_port(), "kafka_messages_duplicate_total"), 1);

  // A full refund, twice: the purchase points and both bonuses go.
  Refund("bob", "r-1", "p-1", 20'000, /*copies=*/2);
  ASSERT_TRUE(Eventually([&] { return Available("alice") == 0 && Available("bob") == 0; }))
      << "alice=" << Available("alice") << " bob=" << Available("bob") << "\n"
      << referral->process().LogTail();
  v1::Referral reversed = Get(r.referral_id());
  EXPECT_EQ(reversed.status(), v1::REFERRAL_STATUS_REVERSED);
  EXPECT_EQ(reversed.refund_id(), "r-1");
  auto entries = ReferralEntries("alice");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_NE(entries[0].reason().find("refund r-1"), std::string::npos) << entries[0].reason();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(ReferralEntries("bob").size(), 2u);

  v1::GetReferralStatsRequest stats_request;
  stats_request.set_member_id("alice");
  v1::ReferralStats stats;
  ASSERT_TRUE(Rpc([&](auto* c) { return stub->GetReferralStats(c, stats_request, &stats); }).ok());
  EXPECT_EQ(stats.invited(), 1);
  EXPECT_EQ(stats.reversed(), 1);
  EXPECT_EQ(stats.points_earned(), 0);
  EXPECT_EQ(Metric(referral->metrics_port(), "referral_points_total{operation=\"reversed\""),
            kReferrerBonus + kInviteeBonus);
}

TEST_F(ReferralIntegrationTest, FraudRuleRejectionIsVisibleByGrpcAndMetrics) {
  ASSERT_TRUE(accrual_client->Enroll("alice", "+380671110001").ok());
  ASSERT_TRUE(accrual_client->Enroll("bob", "+380671110002").ok());
  ASSERT_TRUE(accrual_client->Enroll("carol", "+380671110003").ok());
  EXPECT_EQ(Apply("bob", "alice").status(), v1::REFERRAL_STATUS_PENDING);
  v1::Referral cycle = Apply("alice", "bob");
  EXPECT_EQ(cycle.status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(cycle.reason(), "cycle");
  EXPECT_EQ(Apply("carol", "bob").status(), v1::REFERRAL_STATUS_PENDING);
  EXPECT_EQ(Metric(referral->metrics_port(), "referral_rejections_total{reason=\"cycle\"}"), 1);

  v1::ApplyReferralRequest bad;
  bad.set_invitee_id("carol");
  bad.set_code("");
  bad.set_idempotency_key("x");
  v1::Referral ignored;
  grpc::Status s = Rpc([&](auto* c) { return stub->ApplyReferral(c, bad, &ignored); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("code:", 0), 0u) << s.error_message();
}

TEST_F(ReferralIntegrationTest, KillNineWhileAwardingPaysEachBonusExactlyOnce) {
  constexpr int kPairs = 150;
  for (int i = 0; i < kPairs; ++i) {
    char phone[32];
    std::snprintf(phone, sizeof phone, "+3806711%05d", 2 * i);
    ASSERT_TRUE(accrual_client->Enroll("ref-" + std::to_string(i), phone).ok());
    std::snprintf(phone, sizeof phone, "+3806711%05d", 2 * i + 1);
    ASSERT_TRUE(accrual_client->Enroll("inv-" + std::to_string(i), phone).ok());
  }
  for (int i = 0; i < kPairs; ++i) {
    ASSERT_EQ(Apply("inv-" + std::to_string(i), "ref-" + std::to_string(i)).status(),
              v1::REFERRAL_STATUS_PENDING);
  }
  for (int i = 0; i < kPairs; ++i)
    Purchase("inv-" + std::to_string(i), "p-" + std::to_string(i), 10'000);

  // Kill as soon as the first bonuses land, twice.
  const std::string awarded = "accrual_points_total{operation=\"awarded\",source=\"referral\"}";
  int kills = 0;
  for (double threshold : {1.0, (kPairs * 0.8) * kReferrerBonus}) {
    ASSERT_TRUE(Eventually([&] { return Metric(accrual.metrics_port(), awarded) >= threshold; },
                           std::chrono::seconds(120)));
    double before = Metric(accrual.metrics_port(), awarded);
    if (before >= kPairs * (kReferrerBonus + kInviteeBonus)) break;  // finished too fast
    referral->Kill9();
    ++kills;
    std::printf("kill -9 of referral after %.0f of %lld bonus points were paid\n", before,
                static_cast<long long>(kPairs * (kReferrerBonus + kInviteeBonus)));
    referral->Start();
    Connect();
  }
  EXPECT_GE(kills, 1);
  ASSERT_TRUE(Eventually(
      [&] {
        return Metric(accrual.metrics_port(), awarded) >= kPairs * (kReferrerBonus + kInviteeBonus);
      },
      std::chrono::seconds(120)))
      << referral->process().LogTail();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Metric(accrual.metrics_port(), awarded), kPairs * (kReferrerBonus + kInviteeBonus));
  for (int i = 0; i < kPairs; ++i) {
    std::string ref = "ref-" + std::to_string(i), inv = "inv-" + std::to_string(i);
    EXPECT_EQ(Available(ref), kReferrerBonus) << ref;
    EXPECT_EQ(Available(inv), 100 + kInviteeBonus) << inv;
    EXPECT_EQ(ReferralEntries(ref).size(), 1u) << ref;
    EXPECT_EQ(ReferralEntries(inv).size(), 1u) << inv;
  }
}

}  // namespace
}  // namespace loyalty::testing
