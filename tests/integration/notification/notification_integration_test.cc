// notification as a real process: the dev broker, accrual (whose events it consumes), a real
// SMTP server (aiosmtpd) and local HTTP endpoints for webhook, Telegram and SMS. Events come
// from accrual itself and, for kinds accrual does not emit yet, from kcat as an outside
// producer would publish them.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "loyalty/v1/notification.grpc.pb.h"
#include "services/notification/core/i18n.h"
#include "services/notification/core/mapper.h"
#include "services/notification/core/templates.h"
#include "tests/integration/accrual_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace loyalty::testing {
namespace {

using notification::DefaultTemplate;
using notification::MapEvent;
using notification::Render;

const std::string kScripts = NOTIFICATION_TEST_SCRIPTS;
const std::string kPython = "/usr/bin/python3";  // the system one, with python3-aiosmtpd
const char* kLanguages[] = {"en", "uk", "ru", "pl", "hu"};
const char* kChannelNames[] = {"email", "sms", "webhook", "telegram"};

struct Delivery {
  std::string channel, id, address, subject, text, status, signature_ok;
};

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.push_back(s[i + 1] == 'n' ? '\n' : s[i + 1]);
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

class NotificationIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    accrual.Start();
    accrual_client = std::make_unique<AccrualClient>(accrual.grpc_address());
  }

  void StartSinks(int delay_ms = 0) {
    smtp_dir = dir.Sub("smtp");
    http_log = dir.Sub("http.log");
    smtp =
        std::make_unique<ChildProcess>(std::vector<std::string>{kPython, kScripts + "/smtp_sink.py",
                                                                smtp_dir, dir.Sub("smtp.port")},
                                       dir.Sub("smtp_sink.log"));
    smtp->Start();
    http = std::make_unique<ChildProcess>(
        std::vector<std::string>{kPython, kScripts + "/http_sink.py", http_log,
                                 dir.Sub("http.port"), kSecret, std::to_string(delay_ms)},
        dir.Sub("http_sink.log"));
    http->Start();
    smtp_port = std::stoi(WaitForFile(dir.Sub("smtp.port")));
    http_port = std::stoi(WaitForFile(dir.Sub("http.port")));
  }

  void StartNotification(std::vector<std::string> extra = {}) {
    std::string http_base = "http://127.0.0.1:" + std::to_string(http_port);
    std::vector<std::string> flags = {
        "--channels.email.url=smtp://127.0.0.1:" + std::to_string(smtp_port),
        "--channels.email.from=club@shop.example",
        "--channels.webhook.secret=" + std::string(kSecret),
        "--channels.telegram.base_url=" + http_base,
        "--channels.telegram.token=123:abc",
        "--channels.sms.url=" + http_base + "/sms",
        "--channels.sms.auth_header=Authorization: Bearer sms-token",
        "--accrual.address=" + accrual.grpc_address(),
        "--telegram.webhook_address=127.0.0.1:0",
        "--telegram.port_file=" + dir.Sub("telegram.port"),
        "--notification.seed=7",
    };
    flags.insert(flags.end(), extra.begin(), extra.end());
    notification =
        std::make_unique<ServiceProcess>("notification", dir.path(), kafka.bootstrap(), flags);
    notification->Start();
    stub = v1::NotificationService::NewStub(
        grpc::CreateChannel(notification->grpc_address(), TestChannelCredentials()));
  }

  grpc::Status SetPrefs(const v1::Preferences& p) {
    v1::SetPreferencesRequest r;
    *r.mutable_preferences() = p;
    r.set_idempotency_key("prefs-" + p.member_id());
    v1::Preferences out;
    grpc::ClientContext ctx;
    return stub->SetPreferences(&ctx, r, &out);
  }

  v1::Preferences AllChannels(const std::string& member, const std::string& language, int i) {
    v1::Preferences p;
    p.set_member_id(member);
    p.set_language(language);
    p.set_email(member + "@example.com");
    p.set_phone("+3805000" + std::to_string(10000 + i));
    p.set_webhook_url("http://127.0.0.1:" + std::to_string(http_port) + "/hook/" + member);
    p.set_telegram_chat_id(std::to_string(9000 + i));
    for (const char* c : kChannelNames) p.add_channels(c);
    return p;
  }

  std::vector<v1::Notification> List(const std::string& member) {
    v1::ListNotificationsRequest r;
    r.set_member_id(member);
    r.set_page_size(500);
    v1::ListNotificationsResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!stub->ListNotifications(&ctx, r, &response).ok()) return {};
    return {response.notifications().begin(), response.notifications().end()};
  }

  void Publish(const std::vector<v1::LoyaltyEvent>& events) {
    std::string file = dir.Sub("events-" + std::to_string(++files_));
    std::ofstream out(file);
    for (const auto& e : events) {
      std::string json;
      ASSERT_TRUE(google::protobuf::util::MessageToJsonString(e, &json).ok());
      out << e.member_id() << "|" << json << "\n";
    }
    out.close();
    int code = 0;
    std::string output = RunShell(
        "kcat -b " + kafka.bootstrap() + " -P -t loyalty.events.v1 -K '|' -l " + file + " 2>&1",
        &code);
    ASSERT_EQ(code, 0) << output;
  }

  std::vector<Delivery> Deliveries() {
    std::string output =
        RunShell(kPython + " " + kScripts + "/summarize.py " + smtp_dir + " " + http_log);
    std::vector<Delivery> all;
    std::stringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      std::vector<std::string> f;
      std::stringstream fields(line);
      for (std::string x; std::getline(fields, x, '\t');) f.push_back(Unescape(x));
      while (f.size() < 7) f.emplace_back();
      all.push_back({f[0], f[1], f[2], f[3], f[4], f[5], f[6]});
    }
    return all;
  }

  std::string Metrics() { return HttpGet(notification->metrics_port(), "/metrics"); }

  static constexpr const char* kSecret = "whsec-test";
  TempDir dir;
  DevKafka kafka{dir.Sub("kafka")};
  ServiceProcess accrual{"accrual", dir.path(), kafka.bootstrap()};
  std::unique_ptr<AccrualClient> accrual_client;
  std::unique_ptr<ChildProcess> smtp, http;
  std::string smtp_dir, http_log;
  int smtp_port = 0, http_port = 0;
  std::unique_ptr<ServiceProcess> notification;
  std::unique_ptr<v1::NotificationService::Stub> stub;
  int files_ = 0;
};

// The events accrual does not emit (yet), as their producers will publish them.
std::vector<v1::LoyaltyEvent> OtherKinds(const std::string& member) {
  std::vector<v1::LoyaltyEvent> events;
  auto next = [&](const std::string& suffix) -> v1::LoyaltyEvent& {
    v1::LoyaltyEvent& e = events.emplace_back();
    e.set_member_id(member);
    e.set_event_id(member + ":ext-" + suffix);
    e.set_occurred_at_ms(1'767'225'600'000);
    return e;
  };
  auto* thanks = next("thanks").mutable_points_earned();
  thanks->set_purchase_id("p-9");
  thanks->set_points(3);
  thanks->mutable_breakdown()->set_credited(3);
  thanks->mutable_breakdown()->set_pending(true);
  auto* released = next("released").mutable_pending_released();
  released->set_points(2);
  released->mutable_balance()->set_available(125);
  auto* tier = next("tier").mutable_tier_changed();
  tier->set_from_tier("silver");
  tier->set_to_tier("gold");
  tier->set_upgrade(true);
  auto* expiring = next("expiring").mutable_points_expiring_soon();
  expiring->set_points(14);
  expiring->set_expires_at_ms(1'769'904'000'000);  // 2026-02-01
  expiring->mutable_balance()->set_available(125);
  auto* redeemed = next("redeemed").mutable_reward_redeemed();
  redeemed->set_reward_name("Coffee");
  redeemed->set_points(100);
  redeemed->add_voucher_codes("CAFE-" + member);
  redeemed->set_valid_until_ms(1'769'904'000'000);
  auto* used = next("used").mutable_voucher_used();
  used->set_voucher_code("CAFE-" + member);
  auto* referral = next("referral").mutable_referral_rewarded();
  referral->set_points(5);
  referral->set_role("referrer");
  auto* milestone = next("milestone").mutable_milestone_reached();
  milestone->set_title("10th purchase");
  milestone->set_milestone_id("purchases_10");
  milestone->set_bonus_points(1);
  return events;
}

TEST_F(NotificationIntegrationTest, EveryKindArrivesRenderedInEveryLanguageOnEveryChannel) {
  StartSinks();
  StartNotification();
  std::map<std::string, std::string> language_of;
  std::vector<v1::LoyaltyEvent> published;
  int i = 0;
  for (const char* language : kLanguages) {
    std::string member = std::string("m_") + language;
    language_of[member] = language;
    ASSERT_TRUE(SetPrefs(AllChannels(member, language, i)).ok());
    ASSERT_TRUE(accrual_client->Enroll(member, "+38067111000" + std::to_string(i)).ok());
    v1::AwardPointsRequest award;
    award.set_member_id(member);
    award.set_points(21);
    award.set_reason("goodwill");
    award.set_source("goodwill");
    award.set_idempotency_key("award-" + member);
    v1::LedgerEntry entry;
    grpc::ClientContext ctx;
    ASSERT_TRUE(accrual_client->stub().AwardPoints(&ctx, award, &entry).ok());
    auto others = OtherKinds(member);
    published.insert(published.end(), others.begin(), others.end());
    ++i;
  }
  Publish(published);
  Publish(published);  // a replay: nothing may arrive twice

  const size_t expected = 5 * 10 * 4;
  std::vector<Delivery> got;
  ASSERT_TRUE(Eventually(
      [&] {
        got = Deliveries();
        return got.size() >= expected;
      },
      std::chrono::seconds(90)))
      << "arrived " << got.size() << " of " << expected << "\n"
      << notification->process().LogTail();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  got = Deliveries();
  EXPECT_EQ(got.size(), expected) << "nothing twice";

  std::map<std::string, Delivery> by_id;                        // email, sms, webhook
  std::multiset<std::pair<std::string, std::string>> telegram;  // (chat, text)
  for (const auto& d : got) {
    if (d.channel == "telegram") {
      telegram.insert({d.address, d.text});
    } else {
      EXPECT_TRUE(by_id.emplace(d.id, d).second) << "twice: " << d.id;
    }
    if (d.channel == "webhook") {
      EXPECT_EQ(d.signature_ok, "1") << d.id;
    }
  }
  // Kinds published by kcat: exactly the default templates, rendered.
  for (const auto& e : published) {
    const std::string& language = language_of[e.member_id()];
    auto mapped = MapEvent(e, language, notification::LocalZone::Fixed(0));
    ASSERT_TRUE(mapped.has_value());
    auto t = DefaultTemplate(mapped->kind, language);
    std::string body = Render(t.body(), mapped->vars);
    std::string subject = Render(t.subject(), mapped->vars);
    for (const char* channel : {"email", "sms", "webhook"}) {
      auto it = by_id.find(e.event_id() + "|" + channel);
      ASSERT_NE(it, by_id.end()) << e.event_id() << " " << channel;
      EXPECT_EQ(it->second.text, body) << e.event_id() << " " << channel;
      if (std::string(channel) != "sms") {
        EXPECT_EQ(it->second.subject, subject) << e.event_id();
      }
    }
    int chat =
        9000 + static_cast<int>(std::find(std::begin(kLanguages), std::end(kLanguages), language) -
                                std::begin(kLanguages));
    EXPECT_EQ(telegram.count({std::to_string(chat), body}), 1u) << e.event_id();
  }
  // From accrual itself: the welcome and 21 points with the right plural.
  const std::map<std::string, std::string> twenty_one = {{"en", "21 points"},
                                                         {"uk", "21 бал"},
                                                         {"ru", "21 балл"},
                                                         {"pl", "21 punktów"},
                                                         {"hu", "21 pont"}};
  for (const auto& [member, language] : language_of) {
    int welcome = 0, earned = 0;
    for (const auto& n : List(member)) {
      EXPECT_EQ(n.status(), "delivered") << n.notification_id();
      if (n.kind() == "welcome") ++welcome;
      if (n.kind() == "points_earned") {
        ++earned;
        EXPECT_NE(n.body().find(twenty_one.at(language)), std::string::npos) << n.body();
      }
      ASSERT_GE(n.attempts_size(), 1);
      EXPECT_EQ(n.attempts(n.attempts_size() - 1).outcome(), "ok");
    }
    EXPECT_EQ(welcome, 4) << member;
    EXPECT_EQ(earned, 4) << member;
  }
  std::string metrics = Metrics();
  EXPECT_NE(metrics.find("notification_notifications_total{channel=\"telegram\",kind=\"welcome\","
                         "outcome=\"delivered\"} 5"),
            std::string::npos)
      << metrics.substr(0, 3000);
  EXPECT_TRUE(
      Eventually([&] { return Metrics().find("notification_queue_depth 0") != std::string::npos; },
                 std::chrono::seconds(5)));
}

TEST_F(NotificationIntegrationTest, FailuresAreRetriedWithBackoffThenDeadLettered) {
  StartSinks();
  StartNotification({"--notification.max_attempts=3", "--notification.backoff_base_ms=100",
                     "--notification.backoff_max_ms=400", "--channels.webhook.timeout_ms=500",
                     "--notification.breaker_failures=100"});
  std::string base = "http://127.0.0.1:" + std::to_string(http_port);
  struct Case {
    std::string member, url, email;
    int attempts;
    std::string outcome, detail;
  } cases[] = {
      {"f503", base + "/status/503/f503", "", 3, "transient", "http 503"},
      {"f404", base + "/status/404/f404", "", 1, "permanent", "http 404"},
      {"fslow", base + "/slow/3000/fslow", "", 3, "transient", "timeout"},
      {"frefused", "http://127.0.0.1:1/refused", "", 3, "transient", ""},
      {"freject", "", "reject@example.com", 1, "permanent", "smtp 550"},
  };
  std::vector<v1::LoyaltyEvent> events;
  for (const auto& c : cases) {
    v1::Preferences p;
    p.set_member_id(c.member);
    if (!c.url.empty()) {
      p.set_webhook_url(c.url);
      p.add_channels("webhook");
    } else {
      p.set_email(c.email);
      p.add_channels("email");
    }
    ASSERT_TRUE(SetPrefs(p).ok());
    v1::LoyaltyEvent& e = events.emplace_back();
    e.set_member_id(c.member);
    e.set_event_id(c.member + ":1");
    e.mutable_milestone_reached()->set_title("First purchase");
  }
  Publish(events);
  for (const auto& c : cases) {
    std::vector<v1::Notification> list;
    ASSERT_TRUE(Eventually(
        [&] {
          list = List(c.member);
          return list.size() == 1 && list[0].status() == "dead";
        },
        std::chrono::seconds(60)))
        << c.member << "\n"
        << notification->process().LogTail();
    const auto& n = list[0];
    ASSERT_EQ(n.attempts_size(), c.attempts) << c.member;
    for (const auto& a : n.attempts()) {
      EXPECT_EQ(a.outcome(), c.outcome) << c.member;
      EXPECT_NE(a.detail().find(c.detail), std::string::npos) << c.member << ": " << a.detail();
    }
    // Backoff: retries are spaced by at least half the nominal delay (100 ms, 200 ms).
    for (int k = 1; k < n.attempts_size(); ++k) {
      EXPECT_GE(n.attempts(k).at_ms() - n.attempts(k - 1).at_ms(), 50LL << (k - 1)) << c.member;
    }
  }
  // The sink logs a slow request when it finally answers, 3 s after it arrived.
  int hits_503 = 0, hits_slow = 0;
  Eventually(
      [&] {
        hits_503 = hits_slow = 0;
        for (const auto& d : Deliveries()) {
          hits_503 += d.address == "/status/503/f503";
          hits_slow += d.address == "/slow/3000/fslow";
        }
        return hits_slow >= 3;
      },
      std::chrono::seconds(15));
  EXPECT_EQ(hits_503, 3);
  EXPECT_EQ(hits_slow, 3);
  std::string metrics = Metrics();
  EXPECT_NE(metrics.find("notification_dead_letters_total{channel=\"webhook\"} 4"),
            std::string::npos)
      << metrics.substr(0, 4000);
  EXPECT_NE(metrics.find("notification_dead_letters_total{channel=\"email\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("notification_retries_total{channel=\"webhook\"} 6"), std::string::npos);
  for (const char* name :
       {"notification_attempt_seconds_bucket{channel=\"webhook\"",
        "notification_breaker_open{channel=\"sms\"} 0",
        "notification_events_total{result=\"processed\"} 5", "notification_queue_depth 0"}) {
    EXPECT_NE(metrics.find(name), std::string::npos) << name;
  }
  std::string file = dir.Sub("metrics.txt");
  std::ofstream(file) << metrics;
  int code = 0;
  std::string lint = RunShell("promtool check metrics < " + file + " 2>&1", &code);
  EXPECT_EQ(code, 0) << lint;
}

TEST_F(NotificationIntegrationTest, KillDuringSendingThenRestartSendsNothingTwice) {
  StartSinks(/*delay_ms=*/40);
  StartNotification();
  const int members = 120;
  std::vector<v1::LoyaltyEvent> events;
  for (int i = 0; i < members; ++i) {
    std::string member = "k" + std::to_string(i);
    ASSERT_TRUE(SetPrefs(AllChannels(member, kLanguages[i % 5], i)).ok());
    for (int j = 1; j <= 2; ++j) {
      v1::LoyaltyEvent& e = events.emplace_back();
      e.set_member_id(member);
      e.set_event_id(member + ":" + std::to_string(j));
      e.mutable_points_earned()->set_points(j);
      e.mutable_points_earned()->mutable_breakdown()->set_credited(j);
      e.mutable_points_earned()->mutable_balance()->set_available(1000 + i * 10 + j);
    }
  }
  Publish(events);
  const size_t expected = events.size() * 4;
  int kills = 0;
  for (size_t threshold : {expected / 4, expected / 2}) {
    ASSERT_TRUE(
        Eventually([&] { return Deliveries().size() >= threshold; }, std::chrono::seconds(120)));
    notification->Kill9();
    ++kills;
    Publish({events.begin(), events.begin() + 10});  // replays while it is down
    notification->Start();
  }
  std::vector<Delivery> got;
  ASSERT_TRUE(Eventually(
      [&] {
        got = Deliveries();
        std::set<std::string> distinct;
        for (const auto& d : got)
          distinct.insert(d.channel + "|" + d.id + "|" + d.address + "|" + d.text);
        return distinct.size() >= expected;
      },
      std::chrono::seconds(180)))
      << notification->process().LogTail();
  std::map<std::string, int> receptions;
  for (const auto& d : got) ++receptions[d.channel + "|" + d.id + "|" + d.address + "|" + d.text];
  int duplicates = 0;
  for (const auto& [key, n] : receptions) duplicates += n - 1;
  EXPECT_EQ(receptions.size(), expected);
  // A request in flight when the process died was never acknowledged to it, so it is sent
  // again; at most workers_per_channel (2) per channel (4) per kill can be in flight.
  std::cout << "kills: " << kills << ", deliveries: " << got.size()
            << ", duplicates (unacknowledged at the kill): " << duplicates << "\n";
  EXPECT_LE(duplicates, kills * 2 * 4);
  // Every notification the service recorded as delivered stays delivered and is not resent.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(Deliveries().size(), got.size());
}

TEST_F(NotificationIntegrationTest, QuietHoursHoldMessagesButNotVoucherCodes) {
  StartSinks();
  StartNotification();
  // Quiet hours around the current UTC time, in the member's zone (UTC+3).
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  int offset = 180;
  int local_minute = static_cast<int>(((now_ms / 60000 + offset) % 1440 + 1440) % 1440);
  v1::Preferences p;
  p.set_member_id("quiet1");
  p.set_email("quiet1@example.com");
  p.add_channels("email");
  p.set_utc_offset_minutes(offset);
  p.mutable_quiet_hours()->set_start_minute((local_minute + 1440 - 60) % 1440);
  p.mutable_quiet_hours()->set_end_minute((local_minute + 120) % 1440);
  ASSERT_TRUE(SetPrefs(p).ok());
  std::vector<v1::LoyaltyEvent> events(2);
  events[0].set_member_id("quiet1");
  events[0].set_event_id("quiet1:1");
  events[0].mutable_milestone_reached()->set_title("First purchase");
  events[1].set_member_id("quiet1");
  events[1].set_event_id("quiet1:2");
  events[1].mutable_reward_redeemed()->set_reward_name("Tea");
  events[1].mutable_reward_redeemed()->add_voucher_codes("TEA-1");
  Publish(events);
  std::vector<v1::Notification> list;
  ASSERT_TRUE(Eventually([&] {
    list = List("quiet1");
    return list.size() == 2 && (list[0].status() == "delivered" || list[1].status() == "delivered");
  }));
  for (const auto& n : list) {
    if (n.kind() == "reward_redeemed") {
      EXPECT_EQ(n.status(), "delivered");
    } else {
      EXPECT_EQ(n.status(), "queued");
      EXPECT_EQ(n.attempts_size(), 0);
      // Held until the local end of the quiet hours, about two hours from now.
      EXPECT_GT(n.next_attempt_at_ms(), now_ms + 110 * 60000);
      EXPECT_LT(n.next_attempt_at_ms(), now_ms + 121 * 60000);
    }
  }
  int emails = 0;
  for (const auto& d : Deliveries()) emails += d.channel == "email";
  EXPECT_EQ(emails, 1);
  // The gauge is refreshed once a second.
  EXPECT_TRUE(
      Eventually([&] { return Metrics().find("notification_queue_depth 1") != std::string::npos; },
                 std::chrono::seconds(5)));
}

TEST_F(NotificationIntegrationTest, TelegramBotLinksAChatAndAnswersInTheMembersLanguage) {
  StartSinks();
  StartNotification();
  ASSERT_TRUE(accrual_client->Enroll("bot1", "+380671234321").ok());
  v1::AwardPointsRequest award;
  award.set_member_id("bot1");
  award.set_points(12);
  award.set_reason("goodwill");
  award.set_source("goodwill");
  award.set_idempotency_key("award-bot1");
  v1::LedgerEntry entry;
  grpc::ClientContext award_ctx;
  ASSERT_TRUE(accrual_client->stub().AwardPoints(&award_ctx, award, &entry).ok());
  v1::Preferences p;
  p.set_member_id("bot1");
  p.set_language("uk");
  ASSERT_TRUE(SetPrefs(p).ok());
  v1::CreateTelegramLinkCodeRequest r;
  r.set_member_id("bot1");
  r.set_idempotency_key("link-bot1");
  v1::TelegramLinkCode code;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub->CreateTelegramLinkCode(&ctx, r, &code).ok());
  int port = ReadPortsFile(dir.Sub("telegram.port")).at("telegram");
  auto say = [&](const std::string& text) {
    std::string body =
        R"({"update_id":1,"message":{"message_id":5,"chat":{"id":4242,"type":"private"},"text":")" +
        text + R"("}})";
    std::string file = dir.Sub("update-" + std::to_string(++files_));
    std::ofstream(file) << body;
    return RunShell("curl -s -X POST -H 'Content-Type: application/json' --data-binary @" + file +
                    " http://127.0.0.1:" + std::to_string(port) + "/telegram/webhook");
  };
  EXPECT_NE(say("/balance").find("not linked"), std::string::npos);
  EXPECT_NE(say("/start " + code.code()).find("Чат прив'язано"), std::string::npos);
  v1::Balance balance;
  ASSERT_TRUE(accrual_client->Balance("bot1", &balance).ok());
  std::string reply = say("/balance");
  EXPECT_NE(reply.find("\"chat_id\":4242"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Ваш баланс: " + std::to_string(balance.available()) + " " +
                       notification::PointsWord("uk", balance.available())),
            std::string::npos)
      << reply;
  std::string history = say("/history");
  EXPECT_NE(history.find("Останні операції:\\n+12 балів — goodwill"), std::string::npos) << history;
  EXPECT_NE(say("/start " + code.code()).find("Код невідомий"), std::string::npos);
  // The linked chat now receives notifications: telegram was added to the channels.
  v1::GetPreferencesRequest g;
  g.set_member_id("bot1");
  v1::Preferences got;
  grpc::ClientContext ctx2;
  ASSERT_TRUE(stub->GetPreferences(&ctx2, g, &got).ok());
  EXPECT_EQ(got.telegram_chat_id(), "4242");
}

}  // namespace
}  // namespace loyalty::testing
