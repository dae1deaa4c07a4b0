// referral as a real process between the dev broker and a real accrual: a referral through
// to both balances, duplicates of every event, kill -9 while bonuses are being paid, a
// refund that reverses both bonuses within accrual's return window and not after it, and
// each anti-fraud rule rejecting its case while a legitimate neighbour case is paid.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <regex>

#include "common/kafka.h"
#include "loyalty/v1/purchases.pb.h"
#include "loyalty/v1/referral.grpc.pb.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

constexpr int64_t kReferrerBonus = 500;
constexpr int64_t kInviteeBonus = 250;

class ReferralIntegrationTest : public ::testing::Test {
 protected:
  // Settings on top of the defaults, for the fixtures below that test one of them.
  virtual std::vector<std::string> AccrualFlags() const { return {}; }
  virtual std::vector<std::string> ReferralFlags() const { return {}; }

  void SetUp() override {
    accrual =
        std::make_unique<ServiceProcess>("accrual", dir.path(), kafka.bootstrap(), AccrualFlags());
    accrual->Start();
    accrual_client = std::make_unique<AccrualClient>(accrual->grpc_address());
    std::vector<std::string> referral_flags = ReferralFlags();
    referral_flags.push_back("--accrual.address=" + accrual->grpc_address());
    referral =
        std::make_unique<ServiceProcess>("referral", dir.path(), kafka.bootstrap(), referral_flags);
    referral->Start();
    Connect();
    auto producer = KafkaProducer::Create({kafka.bootstrap()});
    ASSERT_TRUE(producer.ok());
    producer_ = std::move(*producer);
  }

  void Connect() {
    stub = v1::ReferralService::NewStub(
        grpc::CreateChannel(referral->grpc_address(), TestChannelCredentials()));
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

  // Waits until the referral has the status (its awards or the rule's verdict come later).
  ::testing::AssertionResult ReachesStatus(const std::string& referral_id,
                                           v1::ReferralStatus wanted) {
    if (Eventually([&] { return Get(referral_id).status() == wanted; })) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << referral_id << " is " << v1::ReferralStatus_Name(Get(referral_id).status())
           << ", not " << v1::ReferralStatus_Name(wanted) << "\n"
           << referral->process().LogTail();
  }

  v1::ReferralStats Stats(const std::string& member_id) {
    v1::GetReferralStatsRequest request;
    request.set_member_id(member_id);
    v1::ReferralStats stats;
    grpc::Status s = Rpc([&](auto* c) { return stub->GetReferralStats(c, request, &stats); });
    EXPECT_TRUE(s.ok()) << s.error_message();
    return stats;
  }

  // The referrals made with member_id's codes, by invitee. (Listed oldest first by
  // applied_at_ms, but applications within one millisecond come in referral id order.)
  std::map<std::string, v1::Referral> List(const std::string& member_id) {
    v1::ListReferralsRequest request;
    request.set_member_id(member_id);
    v1::ListReferralsResponse response;
    grpc::Status s = Rpc([&](auto* c) { return stub->ListReferrals(c, request, &response); });
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::map<std::string, v1::Referral> by_invitee;
    for (const auto& r : response.referrals()) by_invitee[r.invitee_id()] = r;
    return by_invitee;
  }

  // Enrols with a phone and an e-mail (the shared client enrols with a phone only).
  grpc::Status Enroll(const std::string& member_id, const std::string& phone,
                      const std::string& email = "", v1::Member* member = nullptr) {
    v1::EnrollMemberRequest request;
    request.set_member_id(member_id);
    request.set_phone(phone);
    request.set_email(email);
    request.set_idempotency_key("enroll-" + member_id);
    v1::Member ignored;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return accrual_client->stub().EnrollMember(&context, request, member ? member : &ignored);
  }

  void Purchase(const std::string& member_id, const std::string& purchase_id, int64_t amount,
                int copies = 1, const std::string& store_id = "kyiv-01") {
    v1::PurchaseEvent p;
    p.set_purchase_id(purchase_id);
    p.set_member_id(member_id);
    p.set_store_id(store_id);
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

  // Every message on loyalty.events.v1 so far.
  std::vector<KafkaMessage> AllEvents() {
    auto consumer = KafkaConsumer::Create({kafka.bootstrap()}, "test-reader");
    EXPECT_TRUE(consumer.ok());
    EXPECT_TRUE((*consumer)->AssignAll({"loyalty.events.v1"}, {}).ok());
    std::vector<KafkaMessage> all;
    while (auto m = (*consumer)->Poll(1000)) all.push_back(std::move(*m));
    return all;
  }

  // Waits until an event matching `last` is on loyalty.events.v1 and referral has read as
  // many messages as the topic holds, so that a check that nothing happened is not made
  // before referral saw the cause. Sound only once nothing else is being published.
  void WaitUntilReferralRead(const std::function<bool(const v1::LoyaltyEvent&)>& last) {
    bool read = Eventually([&] {
      std::vector<KafkaMessage> all = AllEvents();
      bool published = std::any_of(all.begin(), all.end(), [&](const KafkaMessage& m) {
        v1::LoyaltyEvent event;
        return event.ParseFromString(m.value) && last(event);
      });
      return published && Metric(referral->metrics_port(), "kafka_messages_consumed_total") >=
                              static_cast<double>(all.size());
    });
    ASSERT_TRUE(read) << referral->process().LogTail();
  }

  // Every message on loyalty.events.v1 so far, published again as a relay would after a crash.
  int RepublishAllEvents() {
    std::vector<KafkaMessage> all = AllEvents();
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

  double Rejections(const std::string& reason) {
    return Metric(referral->metrics_port(), "referral_rejections_total{reason=\"" + reason + "\"}");
  }

  TempDir dir;
  DevKafka kafka{dir.Sub("kafka")};
  std::unique_ptr<ServiceProcess> accrual;
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
    ASSERT_TRUE(Eventually([&] { return Metric(accrual->metrics_port(), awarded) >= threshold; },
                           std::chrono::seconds(120)));
    double before = Metric(accrual->metrics_port(), awarded);
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
        return Metric(accrual->metrics_port(), awarded) >=
               kPairs * (kReferrerBonus + kInviteeBonus);
      },
      std::chrono::seconds(120)))
      << referral->process().LogTail();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Metric(accrual->metrics_port(), awarded), kPairs * (kReferrerBonus + kInviteeBonus));
  for (int i = 0; i < kPairs; ++i) {
    std::string ref = "ref-" + std::to_string(i), inv = "inv-" + std::to_string(i);
    EXPECT_EQ(Available(ref), kReferrerBonus) << ref;
    EXPECT_EQ(Available(inv), 100 + kInviteeBonus) << inv;
    EXPECT_EQ(ReferralEntries(ref).size(), 1u) << ref;
    EXPECT_EQ(ReferralEntries(inv).size(), 1u) << inv;
  }
}

// --- each anti-fraud rule: its case is rejected with its reason, a neighbour case is paid ---

TEST_F(ReferralIntegrationTest, SelfReferralByOwnCodeOrSameEmailIsRejectedOtherContactPasses) {
  // Accrual keeps phones and e-mails unique as it normalises them (E.164, lower case), so
  // two members never share a phone; an e-mail differing only by a "+tag" and Gmail dots is
  // another member to accrual and the same person to referral.
  ASSERT_TRUE(Enroll("olena", "+380671120001", "olena.k@gmail.com").ok());
  ASSERT_TRUE(Enroll("olena-2", "+380671120002", "OlenaK+promo@gmail.com").ok());
  ASSERT_TRUE(Enroll("petro", "+380671120003", "petro@gmail.com").ok());

  v1::Referral own = Apply("olena", "olena");
  EXPECT_EQ(own.status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(own.reason(), "self_referral");
  EXPECT_EQ(own.reason_detail(), "the code is the invitee's own");
  v1::Referral same_email = Apply("olena-2", "olena");
  EXPECT_EQ(same_email.status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(same_email.reason(), "self_referral");
  EXPECT_EQ(same_email.reason_detail(), "invitee and referrer share an e-mail address");
  // The neighbour: another person's contacts.
  v1::Referral neighbour = Apply("petro", "olena");
  ASSERT_EQ(neighbour.status(), v1::REFERRAL_STATUS_PENDING) << neighbour.DebugString();
  EXPECT_EQ(Rejections("self_referral"), 2);

  // The rejected invitee buys first: nothing for anyone but its own purchase points.
  Purchase("olena-2", "p-olena-2", 20'000);
  Purchase("petro", "p-petro", 20'000);
  ASSERT_TRUE(ReachesStatus(neighbour.referral_id(), v1::REFERRAL_STATUS_REWARDED));
  ASSERT_TRUE(Eventually([&] {
    return Available("olena") == kReferrerBonus && Available("petro") == 200 + kInviteeBonus;
  })) << "olena="
      << Available("olena") << " petro=" << Available("petro");
  WaitUntilReferralRead(
      [](const v1::LoyaltyEvent& e) { return e.points_earned().purchase_id() == "p-olena-2"; });
  EXPECT_EQ(Get(same_email.referral_id()).status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(Available("olena-2"), 200);
  EXPECT_EQ(Available("olena"), kReferrerBonus);
  EXPECT_EQ(ReferralEntries("olena").size(), 1u);
  EXPECT_EQ(ReferralEntries("olena-2").size(), 0u);

  v1::ReferralStats stats = Stats("olena");
  EXPECT_EQ(stats.invited(), 3);
  EXPECT_EQ(stats.rejected(), 2);
  EXPECT_EQ(stats.rewarded(), 1);
  EXPECT_EQ(stats.rejected_by_reason().at("self_referral"), 2);
  EXPECT_EQ(stats.points_earned(), kReferrerBonus);
  EXPECT_EQ(stats.referred_by(), "");  // its own code does not make olena referred
  std::map<std::string, v1::Referral> listed = List("olena");
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed["olena"].status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(listed["olena"].reason(), "self_referral");
  EXPECT_EQ(listed["olena-2"].status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(listed["olena-2"].reason(), "self_referral");
  EXPECT_EQ(listed["petro"].status(), v1::REFERRAL_STATUS_REWARDED);
  EXPECT_EQ(listed["petro"].reason(), "");
}

// A short application window: referral.apply_within_seconds instead of days.
class ReferralLateApplicationTest : public ReferralIntegrationTest {
 protected:
  static constexpr int kApplyWithinSeconds = 3;
  std::vector<std::string> ReferralFlags() const override {
    return {"--referral.apply_within_seconds=" + std::to_string(kApplyWithinSeconds)};
  }
};

TEST_F(ReferralLateApplicationTest, CodeAppliedAfterTheWindowIsRejectedWithinItPasses) {
  ASSERT_TRUE(Enroll("alice", "+380671110001").ok());
  v1::Member late;
  ASSERT_TRUE(Enroll("late", "+380671110002", "", &late).ok());
  // Past the window by the enrolment time accrual recorded (same host clock as referral's).
  auto window_end = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(late.enrolled_at_ms() + kApplyWithinSeconds * 1000 + 200));
  std::this_thread::sleep_until(window_end);
  ASSERT_TRUE(Enroll("in-time", "+380671110003").ok());  // applies at once: within its window

  v1::Referral rejected = Apply("late", "alice");
  EXPECT_EQ(rejected.status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(rejected.reason(), "late_application");
  EXPECT_EQ(rejected.reason_detail(), "code applied more than 3 seconds after enrolment");
  v1::Referral neighbour = Apply("in-time", "alice");
  ASSERT_EQ(neighbour.status(), v1::REFERRAL_STATUS_PENDING) << neighbour.DebugString();
  EXPECT_EQ(Rejections("late_application"), 1);

  Purchase("late", "p-late", 20'000);
  Purchase("in-time", "p-in-time", 20'000);
  ASSERT_TRUE(ReachesStatus(neighbour.referral_id(), v1::REFERRAL_STATUS_REWARDED));
  ASSERT_TRUE(Eventually([&] {
    return Available("alice") == kReferrerBonus && Available("in-time") == 200 + kInviteeBonus;
  })) << "alice="
      << Available("alice") << " in-time=" << Available("in-time");
  WaitUntilReferralRead(
      [](const v1::LoyaltyEvent& e) { return e.points_earned().purchase_id() == "p-late"; });
  EXPECT_EQ(Available("late"), 200);
  EXPECT_EQ(Available("alice"), kReferrerBonus);
  EXPECT_EQ(ReferralEntries("late").size(), 0u);

  v1::ReferralStats stats = Stats("alice");
  EXPECT_EQ(stats.invited(), 2);
  EXPECT_EQ(stats.rejected(), 1);
  EXPECT_EQ(stats.rewarded(), 1);
  EXPECT_EQ(stats.rejected_by_reason().at("late_application"), 1);
  std::map<std::string, v1::Referral> listed = List("alice");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed["late"].status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(listed["late"].reason(), "late_application");
  EXPECT_EQ(listed["in-time"].status(), v1::REFERRAL_STATUS_REWARDED);
}

// At most two referrals per referrer and period, and the third rejected (the default holds).
class ReferralCapTest : public ReferralIntegrationTest {
 protected:
  std::vector<std::string> ReferralFlags() const override {
    return {"--referral.cap_count=2", "--referral.rules.referrer_cap=reject"};
  }
};

TEST_F(ReferralCapTest, ExactlyNReferralsPerPeriodArePaidTheNextIsRejected) {
  ASSERT_TRUE(Enroll("rita", "+380671130000").ok());
  ASSERT_TRUE(Enroll("roman", "+380671130009").ok());
  for (int i = 1; i <= 4; ++i)
    ASSERT_TRUE(Enroll("inv-" + std::to_string(i), "+38067113000" + std::to_string(i)).ok());

  v1::Referral first = Apply("inv-1", "rita");
  v1::Referral second = Apply("inv-2", "rita");
  ASSERT_EQ(first.status(), v1::REFERRAL_STATUS_PENDING) << first.DebugString();
  ASSERT_EQ(second.status(), v1::REFERRAL_STATUS_PENDING) << second.DebugString();
  v1::Referral third = Apply("inv-3", "rita");
  EXPECT_EQ(third.status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(third.reason(), "referrer_cap");
  EXPECT_EQ(third.reason_detail(), "referrer already has 2 referrals in 30 days");
  // The neighbour: another referrer's count is its own.
  v1::Referral other = Apply("inv-4", "roman");
  ASSERT_EQ(other.status(), v1::REFERRAL_STATUS_PENDING) << other.DebugString();
  EXPECT_EQ(Rejections("referrer_cap"), 1);

  Purchase("inv-3", "p-3", 20'000);
  for (int i : {1, 2, 4}) Purchase("inv-" + std::to_string(i), "p-" + std::to_string(i), 20'000);
  for (const auto& id : {first.referral_id(), second.referral_id(), other.referral_id()}) {
    ASSERT_TRUE(ReachesStatus(id, v1::REFERRAL_STATUS_REWARDED));
  }
  ASSERT_TRUE(Eventually([&] {
    return Available("rita") == 2 * kReferrerBonus && Available("roman") == kReferrerBonus &&
           Available("inv-1") == 200 + kInviteeBonus && Available("inv-2") == 200 + kInviteeBonus &&
           Available("inv-4") == 200 + kInviteeBonus;
  })) << "rita="
      << Available("rita") << " roman=" << Available("roman");
  WaitUntilReferralRead(
      [](const v1::LoyaltyEvent& e) { return e.points_earned().purchase_id() == "p-3"; });
  EXPECT_EQ(Get(third.referral_id()).status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(Available("inv-3"), 200);
  EXPECT_EQ(Available("rita"), 2 * kReferrerBonus);
  EXPECT_EQ(ReferralEntries("rita").size(), 2u);

  v1::ReferralStats stats = Stats("rita");
  EXPECT_EQ(stats.invited(), 3);
  EXPECT_EQ(stats.rewarded(), 2);
  EXPECT_EQ(stats.rejected(), 1);
  EXPECT_EQ(stats.rejected_by_reason().at("referrer_cap"), 1);
  EXPECT_EQ(stats.points_earned(), 2 * kReferrerBonus);
  std::map<std::string, v1::Referral> listed = List("rita");
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed["inv-1"].status(), v1::REFERRAL_STATUS_REWARDED);
  EXPECT_EQ(listed["inv-2"].status(), v1::REFERRAL_STATUS_REWARDED);
  EXPECT_EQ(listed["inv-3"].status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(listed["inv-3"].reason(), "referrer_cap");
  EXPECT_EQ(Stats("roman").rewarded(), 1);
}

// The same-store rule rejects (the default holds for an operator).
class ReferralSameStoreTest : public ReferralIntegrationTest {
 protected:
  std::vector<std::string> ReferralFlags() const override {
    return {"--referral.rules.same_store=reject", "--referral.same_store_minutes=30"};
  }
};

TEST_F(ReferralSameStoreTest, FirstPurchaseAtTheReferrersStoreIsRejectedAnotherStorePays) {
  ASSERT_TRUE(Enroll("zoya", "+380671140000").ok());
  ASSERT_TRUE(Enroll("rita", "+380671140001").ok());
  ASSERT_TRUE(Enroll("ivan", "+380671140002").ok());
  ASSERT_TRUE(Enroll("iryna", "+380671140003").ok());
  v1::Referral same = Apply("ivan", "rita");
  v1::Referral other = Apply("iryna", "rita");
  ASSERT_EQ(same.status(), v1::REFERRAL_STATUS_PENDING) << same.DebugString();
  ASSERT_EQ(other.status(), v1::REFERRAL_STATUS_PENDING) << other.DebugString();
  // rita was referred by zoya too: her purchase qualifying that referral shows that referral
  // has read it, so it knows rita's store before ivan's purchase (on another partition).
  v1::Referral rita_own = Apply("rita", "zoya");
  ASSERT_EQ(rita_own.status(), v1::REFERRAL_STATUS_PENDING) << rita_own.DebugString();

  Purchase("rita", "p-rita", 10'000, 1, "kyiv-01");
  ASSERT_TRUE(ReachesStatus(rita_own.referral_id(), v1::REFERRAL_STATUS_REWARDED));
  Purchase("ivan", "p-ivan", 20'000, 1, "kyiv-01");  // minutes later at rita's store
  Purchase("iryna", "p-iryna", 20'000, 1, "lviv-02");
  ASSERT_TRUE(ReachesStatus(same.referral_id(), v1::REFERRAL_STATUS_REJECTED));
  v1::Referral rejected = Get(same.referral_id());
  EXPECT_EQ(rejected.reason(), "same_store");
  EXPECT_EQ(rejected.reason_detail(),
            "first purchase at kyiv-01 within 30 minutes of a purchase by the referrer");
  EXPECT_EQ(rejected.purchase_id(), "p-ivan");
  ASSERT_TRUE(ReachesStatus(other.referral_id(), v1::REFERRAL_STATUS_REWARDED));
  EXPECT_EQ(Get(other.referral_id()).store_id(), "lviv-02");
  EXPECT_EQ(Rejections("same_store"), 1);

  // zoya: one referrer bonus; rita: her purchase, her invitee bonus and one referrer bonus.
  ASSERT_TRUE(Eventually([&] {
    return Available("zoya") == kReferrerBonus &&
           Available("rita") == 100 + kInviteeBonus + kReferrerBonus &&
           Available("iryna") == 200 + kInviteeBonus;
  })) << "zoya="
      << Available("zoya") << " rita=" << Available("rita") << " iryna=" << Available("iryna");
  EXPECT_EQ(Available("ivan"), 200);
  EXPECT_EQ(ReferralEntries("ivan").size(), 0u);
  EXPECT_EQ(ReferralEntries("rita").size(), 2u);

  v1::ReferralStats stats = Stats("rita");
  EXPECT_EQ(stats.invited(), 2);
  EXPECT_EQ(stats.rewarded(), 1);
  EXPECT_EQ(stats.rejected(), 1);
  EXPECT_EQ(stats.rejected_by_reason().at("same_store"), 1);
  EXPECT_EQ(stats.points_earned(), kReferrerBonus + kInviteeBonus);
  EXPECT_EQ(stats.referred_by(), "zoya");
  std::map<std::string, v1::Referral> listed = List("rita");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed["ivan"].status(), v1::REFERRAL_STATUS_REJECTED);
  EXPECT_EQ(listed["ivan"].reason(), "same_store");
  EXPECT_EQ(listed["iryna"].status(), v1::REFERRAL_STATUS_REWARDED);
}

// --- reversal follows accrual's return window ---

// Accrual keeps purchase points pending for a few seconds; referral keeps its own 30-day
// default, which must not be what counts.
class ReferralReturnWindowTest : public ReferralIntegrationTest {
 protected:
  static constexpr int kReturnWindowSeconds = 6;
  std::vector<std::string> AccrualFlags() const override {
    return {"--program.return_window_seconds=" + std::to_string(kReturnWindowSeconds)};
  }

  v1::Balance BalanceOf(const std::string& member_id) {
    v1::Balance balance;
    EXPECT_TRUE(accrual_client->Balance(member_id, &balance).ok());
    return balance;
  }

  // The member's ledger entry for source_id (purchase or refund id).
  v1::LedgerEntry Entry(const std::string& member_id, const std::string& source_id) {
    v1::ListLedgerRequest request;
    request.set_member_id(member_id);
    request.set_page_size(1000);
    v1::ListLedgerResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(accrual_client->stub().ListLedger(&context, request, &response).ok());
    for (const auto& e : response.entries()) {
      if (e.source_id() == source_id) return e;
    }
    return {};
  }
};

TEST_F(ReferralReturnWindowTest, RefundWithinAccrualsWindowReversesBothAfterItKeepsThem) {
  ASSERT_TRUE(Enroll("alice", "+380671110001").ok());
  ASSERT_TRUE(Enroll("bob", "+380671110002").ok());
  ASSERT_TRUE(Enroll("carol", "+380671110003").ok());
  v1::Referral bob_referral = Apply("bob", "alice");
  v1::Referral carol_referral = Apply("carol", "alice");
  Purchase("bob", "p-bob", 20'000);
  Purchase("carol", "p-carol", 20'000);

  // bob's refund right after his purchase: accrual still has its points pending.
  ASSERT_TRUE(Eventually([&] { return BalanceOf("bob").pending() == 200; }));
  Refund("bob", "r-bob", "p-bob", 20'000);
  ASSERT_TRUE(ReachesStatus(bob_referral.referral_id(), v1::REFERRAL_STATUS_REVERSED));
  ASSERT_NE(Entry("bob", "r-bob").reason().find("200 pending cancelled"), std::string::npos)
      << "the refund was not within accrual's window: " << Entry("bob", "r-bob").reason();
  // The window referral recorded is accrual's for that purchase.
  v1::LedgerEntry bob_earned = Entry("bob", "p-bob");
  ASSERT_TRUE(bob_earned.breakdown().pending());
  EXPECT_EQ(Get(bob_referral.referral_id()).return_window_ends_at_ms(),
            bob_earned.breakdown().release_at_ms());
  // loyaltyctl lists it, in UTC like the other times it prints.
  int code = 0;
  std::string listed =
      RunShell(BinDir() + "/loyaltyctl referral list alice --referral=" + referral->grpc_address() +
                   TestPki::Get().CtlFlags() + " 2>&1",
               &code);
  EXPECT_EQ(code, 0) << listed;
  EXPECT_NE(listed.find("RETURN WINDOW ENDS (UTC)"), std::string::npos) << listed;
  std::time_t release = static_cast<std::time_t>(bob_earned.breakdown().release_at_ms() / 1000);
  std::tm tm{};
  gmtime_r(&release, &tm);
  char release_text[32];
  std::strftime(release_text, sizeof release_text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  EXPECT_NE(listed.find(release_text), std::string::npos) << release_text << "\n" << listed;

  // carol's refund once accrual released her points: past the window, the bonuses stay.
  ASSERT_TRUE(ReachesStatus(carol_referral.referral_id(), v1::REFERRAL_STATUS_REWARDED));
  ASSERT_TRUE(Eventually(
      [&] {
        v1::Balance b = BalanceOf("carol");
        return b.pending() == 0 && b.available() == 200 + kInviteeBonus;
      },
      std::chrono::seconds(kReturnWindowSeconds + 30)));
  Refund("carol", "r-carol", "p-carol", 20'000);
  ASSERT_TRUE(Eventually([&] { return !Entry("carol", "r-carol").source_id().empty(); }));
  WaitUntilReferralRead(
      [](const v1::LoyaltyEvent& e) { return e.points_reversed().refund_id() == "r-carol"; });
  v1::Referral kept = Get(carol_referral.referral_id());
  EXPECT_EQ(kept.status(), v1::REFERRAL_STATUS_REWARDED);
  EXPECT_EQ(kept.refund_id(), "");
  EXPECT_LT(kept.return_window_ends_at_ms(), Entry("carol", "r-carol").occurred_at_ms());

  // alice keeps carol's bonus only; bob lost his with the purchase, carol kept hers.
  ASSERT_TRUE(Eventually([&] { return Available("alice") == kReferrerBonus; }))
      << "alice=" << Available("alice");
  EXPECT_EQ(Available("bob"), 0);
  EXPECT_EQ(Available("carol"), kInviteeBonus);
  EXPECT_EQ(ReferralEntries("carol").size(), 1u);
  EXPECT_EQ(Metric(referral->metrics_port(), "referral_points_total{operation=\"reversed\""),
            kReferrerBonus + kInviteeBonus);
  v1::ReferralStats stats = Stats("alice");
  EXPECT_EQ(stats.reversed(), 1);
  EXPECT_EQ(stats.rewarded(), 1);
  EXPECT_EQ(stats.points_earned(), kReferrerBonus);
}

}  // namespace
}  // namespace loyalty::testing
