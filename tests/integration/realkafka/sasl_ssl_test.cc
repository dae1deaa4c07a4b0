// accrual against the SASL_SSL listener of the real cluster (scripts/kafka.sh: mechanism
// PLAIN, one user, a self-signed certificate verified through its PEM as the CA file), set up
// as an operator would: the security keys in the configuration file, the password in
// LOYALTY_KAFKA_SASL_PASSWORD. Purchases produced over SASL_SSL are earned exactly and the
// relay's PointsEarned events are read back over SASL_SSL; with a wrong password the service
// says so in its log, names no password, earns nothing and stops.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/kafka.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/purchases.pb.h"
#include "services/accrual/core/earning.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace loyalty::testing {
namespace {

constexpr int kMembers = 20;
constexpr int kPurchases = 400;

// What `scripts/kafka.sh sasl-ssl` prints: the listener's librdkafka properties.
KafkaProperties SaslSslProperties() {
  int exit_code = -1;
  std::string out =
      RunShell("bash " LOYALTY_SOURCE_DIR "/scripts/kafka.sh sasl-ssl 2>&1", &exit_code);
  if (exit_code != 0) {
    throw std::runtime_error(
        "scripts/kafka.sh sasl-ssl failed (the cluster must be the one this tree's "
        "scripts/kafka.sh started): " +
        out);
  }
  KafkaProperties properties;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (auto eq = line.find('='); eq != std::string::npos) {
      properties[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return properties;
}

class RealKafkaSaslSslTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(RealKafkaBootstrap().empty()) << "a realkafka test: LOYALTY_TEST_KAFKA=real";
    kafka_ = std::make_unique<DevKafka>(dir_.Sub("kafka"));  // fresh topics, over PLAINTEXT
    KafkaProperties listener = SaslSslProperties();
    ASSERT_EQ(listener["security.protocol"], "SASL_SSL");
    sasl_.brokers = listener["bootstrap.servers"];
    password_ = listener["sasl.password"];
    ASSERT_FALSE(sasl_.brokers.empty());
    ASSERT_FALSE(password_.empty());
    for (const char* name : {"security.protocol", "sasl.mechanism", "sasl.username",
                             "sasl.password", "ssl.ca.location"}) {
      sasl_.properties[name] = listener[name];
    }
    config_ = dir_.Sub("accrual.yaml");
    std::ofstream(config_) << "kafka:\n"
                           << "  security_protocol: sasl_ssl\n"
                           << "  sasl_mechanism: " << listener["sasl.mechanism"] << "\n"
                           << "  sasl_username: " << listener["sasl.username"] << "\n"
                           << "  ssl_ca_location: " << listener["ssl.ca.location"] << "\n"
                           << "program:\n  tiers:\n    - {name: Bronze, earn_rate_bp: 100}\n";
  }
  void TearDown() override { unsetenv("LOYALTY_KAFKA_SASL_PASSWORD"); }

  // Every PointsEarned event on loyalty.events.v1, read over SASL_SSL until idle_ms pass
  // without a message: purchase id -> event id.
  std::map<std::string, std::string> EarnedEvents(int idle_ms) {
    auto consumer = KafkaConsumer::Create(sasl_, "sasl-ssl-reader");
    EXPECT_TRUE(consumer.ok()) << consumer.status().ToString();
    if (!consumer.ok()) return {};
    Status assigned = (*consumer)->AssignAll({"loyalty.events.v1"}, {});
    EXPECT_TRUE(assigned.ok()) << assigned.ToString();
    std::map<std::string, std::string> earned;
    auto idle_since = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - idle_since < std::chrono::milliseconds(idle_ms)) {
      auto message = (*consumer)->Poll(100);
      if (!message) continue;
      idle_since = std::chrono::steady_clock::now();
      v1::LoyaltyEvent event;
      EXPECT_TRUE(event.ParseFromString(message->value));
      if (!event.has_points_earned()) continue;
      auto [it, inserted] = earned.emplace(event.points_earned().purchase_id(), event.event_id());
      EXPECT_TRUE(inserted || it->second == event.event_id()) << "earned twice: " << it->first;
    }
    return earned;
  }

  // Produces the purchases over SASL_SSL; returns the points each member should earn.
  std::vector<int64_t> ProducePurchases() {
    auto producer = KafkaProducer::Create(sasl_);
    EXPECT_TRUE(producer.ok()) << producer.status().ToString();
    std::vector<int64_t> expected(kMembers, 0);
    if (!producer.ok()) return expected;
    int delivered = 0;
    for (int n = 0; n < kPurchases; ++n) {
      v1::PurchaseEvent p;
      p.set_purchase_id("sasl-p-" + std::to_string(n));
      p.set_member_id(MemberId(n % kMembers));
      p.set_amount_minor(1'000 + 37 * n);
      p.set_currency("UAH");
      expected[n % kMembers] += accrual::BasePoints(p.amount_minor(), 100, 1);
      Status s =
          (*producer)->Produce("loyalty.purchases.v1", p.member_id(), p.SerializeAsString(), {},
                               [&](const DeliveryResult& r) { delivered += r.delivered; });
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    EXPECT_TRUE((*producer)->Flush(30'000));
    EXPECT_EQ(delivered, kPurchases) << "purchases acknowledged over SASL_SSL";
    return expected;
  }

  static std::string MemberId(int i) { return "sasl-" + std::to_string(i); }

  TempDir dir_;
  std::unique_ptr<DevKafka> kafka_;
  KafkaClientSettings sasl_;
  std::string password_;
  std::string config_;
};

TEST_F(RealKafkaSaslSslTest, AccrualConsumesAndPublishesOverSaslSsl) {
  ASSERT_EQ(setenv("LOYALTY_KAFKA_SASL_PASSWORD", password_.c_str(), 1), 0);
  ServiceProcess accrual("accrual", dir_.path(), sasl_.brokers, {"--config=" + config_});
  accrual.Start();
  AccrualClient client(accrual.grpc_address());
  for (int i = 0; i < kMembers; ++i) {
    char phone[32];
    std::snprintf(phone, sizeof phone, "+3806722%05d", i);
    ASSERT_TRUE(client.Enroll(MemberId(i), phone).ok()) << i;
  }
  const std::vector<int64_t> expected = ProducePurchases();

  auto earned_exactly = [&] {
    for (int i = 0; i < kMembers; ++i) {
      v1::Balance balance;
      if (!client.Balance(MemberId(i), &balance).ok()) return false;
      if (balance.lifetime_earned() != expected[i]) return false;
    }
    return true;
  };
  ASSERT_TRUE(Eventually(earned_exactly, std::chrono::seconds(60))) << accrual.process().LogTail();
  for (int i = 0; i < kMembers; ++i) {
    v1::Balance balance;
    ASSERT_TRUE(client.Balance(MemberId(i), &balance).ok());
    EXPECT_EQ(balance.available(), expected[i]) << MemberId(i);
  }

  // The relay's events, each purchase's once. The relay may still be publishing the last.
  std::map<std::string, std::string> earned;
  ASSERT_TRUE(Eventually(
      [&] {
        earned = EarnedEvents(1000);
        return earned.size() >= static_cast<size_t>(kPurchases);
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(earned.size(), static_cast<size_t>(kPurchases));

  accrual.Stop();
  const std::string log = accrual.process().LogTail(1 << 20);
  EXPECT_NE(log.find("\"kafka_security_protocol\":\"SASL_SSL\""), std::string::npos) << log;
  EXPECT_EQ(log.find("kafka authentication failed"), std::string::npos) << log;
  EXPECT_EQ(log.find(password_), std::string::npos) << "the password is in the log";
}

TEST_F(RealKafkaSaslSslTest, AWrongPasswordIsLoggedAsAnAuthenticationErrorAndEarnsNothing) {
  ProducePurchases();  // waiting on the topic, readable with the right password
  const std::string wrong = "not-the-" + password_;
  ASSERT_EQ(setenv("LOYALTY_KAFKA_SASL_PASSWORD", wrong.c_str(), 1), 0);
  ServiceProcess accrual("accrual", dir_.path(), sasl_.brokers, {"--config=" + config_});
  const auto started = std::chrono::steady_clock::now();
  accrual.process().Start();
  // It gives up at its first unanswered metadata request instead of waiting for the topics.
  const int status = accrual.process().Wait(std::chrono::seconds(30));
  const auto took = std::chrono::steady_clock::now() - started;
  const std::string log = accrual.process().LogTail(1 << 20);
  ASSERT_NE(status, -1) << "still running with a wrong password\n" << log;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << "\n" << log;
  EXPECT_LT(took, std::chrono::seconds(20));
  EXPECT_NE(log.find("\"msg\":\"kafka authentication failed\""), std::string::npos) << log;
  EXPECT_NE(log.find("SASL authentication error"), std::string::npos) << log;
  EXPECT_NE(log.find("cannot read the input"), std::string::npos) << log;
  EXPECT_EQ(log.find("accrual ready"), std::string::npos) << log;
  EXPECT_EQ(log.find(wrong), std::string::npos) << "the password is in the log";
  EXPECT_EQ(log.find(password_ + "\""), std::string::npos);
  // Nothing earned: not one event on the topic.
  EXPECT_TRUE(EarnedEvents(1000).empty());
}

}  // namespace
}  // namespace loyalty::testing
