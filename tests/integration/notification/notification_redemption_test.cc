// notification with redemption, all real processes: the dev broker, accrual, redemption and
// notification, plus the local HTTP sink as the webhook and Telegram endpoint. A reward is
// created in redemption, a member gets points in accrual, and a PointsExpiringSoon event is
// published onto loyalty.events.v1 as accrual's expiry reminder would be (accrual's reminder
// window is in days, so there is no quick real trigger): the webhook message must name the
// reward the member can afford. The bot's /rewards is asked over its HTTP endpoint.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/kafka.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/notification.grpc.pb.h"
#include "loyalty/v1/redemption.grpc.pb.h"
#include "services/notification/core/i18n.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

const std::string kScripts = NOTIFICATION_TEST_SCRIPTS;
const std::string kPython = "/usr/bin/python3";
constexpr const char* kSecret = "whsec-test";

class NotificationRedemptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    accrual.Start();
    accrual_client = std::make_unique<AccrualClient>(accrual.grpc_address());
    redemption = std::make_unique<ServiceProcess>(
        "redemption", dir.path(), kafka.bootstrap(),
        std::vector<std::string>{"--accrual.address=" + accrual.grpc_address()});
    redemption->Start();
    redemption_stub = v1::RedemptionService::NewStub(
        grpc::CreateChannel(redemption->grpc_address(), TestChannelCredentials()));
    http_log = dir.Sub("http.log");
    http = std::make_unique<ChildProcess>(
        std::vector<std::string>{kPython, kScripts + "/http_sink.py", http_log,
                                 dir.Sub("http.port"), kSecret, "0"},
        dir.Sub("http_sink.log"));
    http->Start();
    http_port = std::stoi(WaitForFile(dir.Sub("http.port")));
    std::string http_base = "http://127.0.0.1:" + std::to_string(http_port);
    notification = std::make_unique<ServiceProcess>(
        "notification", dir.path(), kafka.bootstrap(),
        std::vector<std::string>{
            "--channels.webhook.secret=" + std::string(kSecret),
            "--channels.telegram.base_url=" + http_base, "--channels.telegram.token=123:abc",
            "--accrual.address=" + accrual.grpc_address(),
            "--redemption.address=" + redemption->grpc_address(), "--redemption.timeout_ms=2000",
            "--telegram.webhook_address=127.0.0.1:0",
            "--telegram.port_file=" + dir.Sub("telegram.port"), "--notification.seed=7"});
    notification->Start();
    stub = v1::NotificationService::NewStub(
        grpc::CreateChannel(notification->grpc_address(), TestChannelCredentials()));
  }

  void CreateReward(const std::string& id, const std::string& name, int64_t price) {
    v1::CreateRewardRequest request;
    auto* r = request.mutable_reward();
    r->set_reward_id(id);
    r->set_name(name);
    r->set_kind(v1::REWARD_KIND_GIFT_CARD);
    r->mutable_gift_card()->set_value_minor(50'000);
    r->set_currency("UAH");
    r->set_points_price(price);
    r->set_unlimited_stock(true);
    r->set_active(true);
    request.set_idempotency_key("create-" + id);
    v1::Reward out;
    grpc::ClientContext ctx;
    grpc::Status s = redemption_stub->CreateReward(&ctx, request, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void Award(const std::string& member, int64_t points) {
    v1::AwardPointsRequest award;
    award.set_member_id(member);
    award.set_points(points);
    award.set_reason("goodwill");
    award.set_source("goodwill");
    award.set_idempotency_key("award-" + member);
    v1::LedgerEntry entry;
    grpc::ClientContext ctx;
    grpc::Status s = accrual_client->stub().AwardPoints(&ctx, award, &entry);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void SetPrefs(const v1::Preferences& p) {
    v1::SetPreferencesRequest r;
    *r.mutable_preferences() = p;
    r.set_idempotency_key("prefs-" + p.member_id());
    v1::Preferences out;
    grpc::ClientContext ctx;
    grpc::Status s = stub->SetPreferences(&ctx, r, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // The texts of the reminders (event ids "<member>:reminder-N") delivered to member's webhook,
  // in the order they arrived; other messages (welcome, points earned) are left out.
  std::vector<std::string> WebhookTexts(const std::string& member) {
    std::string output =
        RunShell(kPython + " " + kScripts + "/summarize.py " + dir.Sub("no-smtp") + " " + http_log);
    std::vector<std::string> texts;
    std::stringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      std::vector<std::string> f;
      std::stringstream fields(line);
      for (std::string x; std::getline(fields, x, '\t');) f.push_back(x);
      if (f.size() >= 5 && f[0] == "webhook" && f[2] == "/hook/" + member &&
          f[1].find(":reminder-") != std::string::npos) {
        texts.push_back(f[4]);
      }
    }
    return texts;
  }

  TempDir dir;
  DevKafka kafka{dir.Sub("kafka")};
  ServiceProcess accrual{"accrual", dir.path(), kafka.bootstrap()};
  std::unique_ptr<AccrualClient> accrual_client;
  std::unique_ptr<ServiceProcess> redemption;
  std::unique_ptr<v1::RedemptionService::Stub> redemption_stub;
  std::unique_ptr<ChildProcess> http;
  std::string http_log;
  int http_port = 0;
  std::unique_ptr<ServiceProcess> notification;
  std::unique_ptr<v1::NotificationService::Stub> stub;
  int files_ = 0;
};

TEST_F(NotificationRedemptionTest, ExpiringSoonNamesAnAffordableRewardAndBotListsRewards) {
  CreateReward("coffee", "Coffee", 100);
  CreateReward("cinema", "Cinema ticket", 300);
  CreateReward("trip", "Weekend trip", 1'000'000);  // never affordable here
  int phone = 0;
  for (const char* member : {"exp-en", "exp-pl"}) {
    ASSERT_TRUE(accrual_client->Enroll(member, "+38067123000" + std::to_string(++phone)).ok());
    Award(member, 500);
  }
  v1::Balance balance;
  ASSERT_TRUE(accrual_client->Balance("exp-en", &balance).ok());
  ASSERT_GE(balance.available(), 500);
  for (const auto& [member, language] :
       std::vector<std::pair<std::string, std::string>>{{"exp-en", "en"}, {"exp-pl", "pl"}}) {
    v1::Preferences p;
    p.set_member_id(member);
    p.set_language(language);
    p.set_webhook_url("http://127.0.0.1:" + std::to_string(http_port) + "/hook/" + member);
    p.add_channels("webhook");
    SetPrefs(p);
  }

  // Accrual's reminder, as it would publish it: 250 points expiring, so the cheapest reward
  // covering them (the cinema ticket) is the suggestion; the trip is out of reach.
  auto producer = KafkaProducer::Create({kafka.bootstrap()});
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  for (const char* member : {"exp-en", "exp-pl"}) {
    v1::LoyaltyEvent e;
    e.set_member_id(member);
    e.set_event_id(std::string(member) + ":reminder-1");
    e.set_occurred_at_ms(1'767'225'600'000);
    auto* expiring = e.mutable_points_expiring_soon();
    expiring->set_points(250);
    expiring->set_expires_at_ms(1'769'904'000'000);  // 2026-02-01
    *expiring->mutable_balance() = balance;
    ASSERT_TRUE((*producer)->Produce("loyalty.events.v1", member, e.SerializeAsString()).ok());
  }
  ASSERT_TRUE((*producer)->Flush(10'000));

  ASSERT_TRUE(
      Eventually([&] { return !WebhookTexts("exp-en").empty() && !WebhookTexts("exp-pl").empty(); },
                 std::chrono::seconds(60)));
  std::string en = WebhookTexts("exp-en").at(0);
  EXPECT_NE(en.find("Points expiring on"), std::string::npos) << en;
  EXPECT_NE(en.find("You can afford Cinema ticket for 300 points."), std::string::npos) << en;
  std::string pl = WebhookTexts("exp-pl").at(0);
  EXPECT_NE(pl.find("Stać Cię na nagrodę „Cinema ticket” za 300 " +
                    notification::PointsWord("pl", 300) + "."),
            std::string::npos)
      << pl;

  // The bot: link a chat, then /rewards lists what the member can redeem now, cheapest first.
  v1::CreateTelegramLinkCodeRequest r;
  r.set_member_id("exp-pl");
  r.set_idempotency_key("link-exp-pl");
  v1::TelegramLinkCode code;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub->CreateTelegramLinkCode(&ctx, r, &code).ok());
  int port = ReadPortsFile(dir.Sub("telegram.port")).at("telegram");
  auto say = [&](const std::string& text) {
    std::string body =
        R"({"update_id":1,"message":{"message_id":5,"chat":{"id":4343,"type":"private"},"text":")" +
        text + R"("}})";
    std::string file = dir.Sub("update-" + std::to_string(++files_));
    std::ofstream(file) << body;
    return RunShell("curl -s -X POST -H 'Content-Type: application/json' --data-binary @" + file +
                    " http://127.0.0.1:" + std::to_string(port) + "/telegram/webhook");
  };
  EXPECT_NE(say("/start " + code.code()).find("Czat połączony"), std::string::npos);
  std::string rewards = say("/rewards");
  EXPECT_NE(rewards.find("\"chat_id\":4343"), std::string::npos) << rewards;
  EXPECT_NE(rewards.find("Nagrody, które możesz teraz odebrać:\\nCoffee — 100 punktów\\nCinema "
                         "ticket — 300 punktów"),
            std::string::npos)
      << rewards;
  EXPECT_EQ(rewards.find("Weekend trip"), std::string::npos) << rewards;

  // Redemption gone: expiring-soon messages still go, without a suggestion.
  redemption->Stop();
  v1::LoyaltyEvent e;
  e.set_member_id("exp-en");
  e.set_event_id("exp-en:reminder-2");
  e.mutable_points_expiring_soon()->set_points(250);
  e.mutable_points_expiring_soon()->set_expires_at_ms(1'769'904'000'000);
  ASSERT_TRUE((*producer)->Produce("loyalty.events.v1", "exp-en", e.SerializeAsString()).ok());
  ASSERT_TRUE((*producer)->Flush(10'000));
  ASSERT_TRUE(
      Eventually([&] { return WebhookTexts("exp-en").size() >= 2; }, std::chrono::seconds(60)));
  std::string without = WebhookTexts("exp-en").at(1);
  EXPECT_NE(without.find("Points expiring on"), std::string::npos) << without;
  EXPECT_EQ(without.find("You can afford"), std::string::npos) << without;
  EXPECT_NE(say("/rewards").find("Przepraszamy, to jest teraz niedostępne"), std::string::npos);
}

}  // namespace
}  // namespace loyalty::testing
