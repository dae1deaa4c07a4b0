// The notification core on a real RocksDB in a temp dir, driven by a manual clock.
#include "services/notification/core/notification_core.h"
#include "services/notification/event_decoder.h"

#include <gtest/gtest.h>

#include <memory>

#include "common/outbox.h"
#include "services/notification/core/bot.h"
#include "tests/support/fake_accrual.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_caller.h"
#include "tests/support/test_store.h"

namespace loyalty::notification {
namespace {

constexpr int64_t kJan1 = 1'767'225'600'000;  // 2026-01-01T00:00Z

class Env {
 public:
  explicit Env(NotificationConfig config = Defaults()) : config_(config) {
    clock.Set(kJan1 + 12 * kHourMs);
    Open();
  }
  static NotificationConfig Defaults() {
    NotificationConfig c;
    c.max_attempts = 4;
    c.backoff = {1000, 60000};
    c.breaker = {3, 30000};
    c.seed = 99;
    return c;
  }
  void Restart() {
    core.reset();
    outbox.reset();
    store.reset();
    Open();
  }
  v1::Preferences Prefs(const std::string& member, const std::string& language = "en") {
    v1::Preferences p;
    p.set_member_id(member);
    p.set_language(language);
    p.set_email(member + "@example.com");
    p.set_phone("+380501234567");
    p.add_channels("email");
    p.add_channels("sms");
    return p;
  }
  v1::Preferences Set(const v1::Preferences& p) {
    v1::SetPreferencesRequest r;
    *r.mutable_preferences() = p;
    r.set_idempotency_key("prefs-" + p.member_id() + "-" + std::to_string(++keys_));
    auto result = core->SetPreferences(kTestCaller, r);
    if (!result.ok()) throw std::runtime_error(result.status().ToString());
    return *result;
  }
  InputMessage Event(const v1::LoyaltyEvent& e) {
    InputMessage m;
    m.topic = kEventsTopic;
    m.offset = next_offset_++;
    m.key = e.member_id();
    m.value = e.SerializeAsString();
    return m;
  }
  v1::LoyaltyEvent Earned(const std::string& member, int seq, int64_t points, int64_t balance) {
    v1::LoyaltyEvent e;
    e.set_member_id(member);
    e.set_event_id(member + ":" + std::to_string(seq));
    e.set_sequence(seq);
    e.mutable_points_earned()->set_points(points);
    e.mutable_points_earned()->mutable_breakdown()->set_credited(points);
    e.mutable_points_earned()->mutable_balance()->set_available(balance);
    return e;
  }
  v1::LoyaltyEvent Voucher(const std::string& member, int seq) {
    v1::LoyaltyEvent e;
    e.set_member_id(member);
    e.set_event_id(member + ":" + std::to_string(seq));
    e.mutable_reward_redeemed()->set_reward_name("Coffee");
    e.mutable_reward_redeemed()->add_voucher_codes("V-" + std::to_string(seq));
    e.mutable_reward_redeemed()->set_points(100);
    return e;
  }
  BatchResult Apply(const std::vector<v1::LoyaltyEvent>& events) {
    std::vector<InputMessage> batch;
    for (const auto& e : events) batch.push_back(Event(e));
    return core->ApplyBatch(batch, DecodeEvent);
  }
  std::vector<v1::Notification> List(const std::string& member) {
    v1::ListNotificationsRequest r;
    r.set_member_id(member);
    r.set_page_size(500);
    auto result = core->ListNotifications(r);
    if (!result.ok()) throw std::runtime_error(result.status().ToString());
    return {result->notifications().begin(), result->notifications().end()};
  }

  testing::TempDir dir;
  ManualClock clock;
  std::unique_ptr<Store> store;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<NotificationCore> core;

 private:
  void Open() {
    store = testing::OpenStoreOrThrow(dir.path(), NotificationColumnFamilies());
    outbox = std::make_unique<Outbox>(*store);
    core = std::make_unique<NotificationCore>(*store, *outbox, clock, config_);
  }
  NotificationConfig config_;
  int64_t next_offset_ = 0;
  int keys_ = 0;
};

SendResult Ok() { return {SendResult::Outcome::kOk, "http 200", 5}; }
SendResult Transient() { return {SendResult::Outcome::kTransient, "http 503", 5}; }
SendResult Permanent() { return {SendResult::Outcome::kPermanent, "http 404", 5}; }

TEST(PreferencesTest, ValidatesAndIsIdempotent) {
  Env env;
  v1::SetPreferencesRequest r;
  *r.mutable_preferences() = env.Prefs("m1");
  r.mutable_preferences()->add_channels("webhook");  // no URL
  r.set_idempotency_key("k1");
  auto bad = env.core->SetPreferences(kTestCaller, r);
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("preferences.channels[2]: 'webhook' has no address", 0),
            0u);
  r.mutable_preferences()->set_webhook_url("https://hooks.example.com/x");
  ASSERT_TRUE(env.core->SetPreferences(kTestCaller, r).ok());
  EXPECT_TRUE(env.core->SetPreferences(kTestCaller, r).ok())
      << "same key, same request: first answer";
  r.mutable_preferences()->set_language("de");
  EXPECT_EQ(env.core->SetPreferences(kTestCaller, r).status().code(), Code::kAlreadyExists);
  r.set_idempotency_key("k2");
  EXPECT_EQ(
      env.core->SetPreferences(kTestCaller, r).status().message().rfind("preferences.language:", 0),
      0u);
  r.mutable_preferences()->set_language("uk");
  r.mutable_preferences()->set_phone("0501234567");
  EXPECT_EQ(
      env.core->SetPreferences(kTestCaller, r).status().message().rfind("preferences.phone:", 0),
      0u);
  r.mutable_preferences()->set_phone("+380501234567");
  r.mutable_preferences()->mutable_quiet_hours()->set_start_minute(1440);
  EXPECT_EQ(env.core->SetPreferences(kTestCaller, r).status().code(), Code::kInvalidArgument);
  r.mutable_preferences()->mutable_quiet_hours()->set_start_minute(1320);
  r.mutable_preferences()->add_opted_out_kinds("spam");
  EXPECT_EQ(env.core->SetPreferences(kTestCaller, r)
                .status()
                .message()
                .rfind("preferences.opted_out_kinds[0]", 0),
            0u);
  EXPECT_EQ(env.core->GetPreferences("nobody").status().code(), Code::kNotFound);
  env.Restart();
  auto got = env.core->GetPreferences("m1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->webhook_url(), "https://hooks.example.com/x");
}

TEST(CoreTest, EventBecomesOneNotificationPerChannelExactlyOnce) {
  Env env;
  env.Set(env.Prefs("m1", "uk"));
  auto e = env.Earned("m1", 2, 22, 101);
  BatchResult r = env.Apply({e, e});
  EXPECT_EQ(r.duplicates, 1);
  EXPECT_EQ((r.queued[{"points_earned", "email"}]), 1);
  EXPECT_EQ((r.queued[{"points_earned", "sms"}]), 1);
  auto list = env.List("m1");
  ASSERT_EQ(list.size(), 2u);
  for (const auto& n : list) {
    EXPECT_EQ(n.body(), "Вам нараховано 22 бали. Ваш баланс: 101 бал.");
    EXPECT_EQ(n.status(), "queued");
  }
  // A replay after a restart (offsets rewound by the broker) sends nothing new.
  env.Restart();
  EXPECT_EQ(env.Apply({e}).duplicates, 1);
  EXPECT_EQ(env.core->QueueDepth(), 2);
  // Deliver both, then replay again: still nothing queued.
  for (const char* c : {"email", "sms"}) {
    auto due = env.core->TakeDue(c, 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(env.core->RecordAttempt(due[0].notification_id(), Ok()).outcome, "delivered");
  }
  EXPECT_EQ(env.core->QueueDepth(), 0);
  env.Restart();
  EXPECT_EQ(env.core->QueueDepth(), 0) << "delivered notifications are not queued again";
  EXPECT_EQ(env.Apply({e}).duplicates, 1);
  EXPECT_TRUE(env.core->TakeDue("email", 10).empty());
}

TEST(CoreTest, NoPreferencesOptOutAndDisabledKindsSendNothing) {
  NotificationConfig config = Env::Defaults();
  config.disabled_kinds = {"milestone"};
  Env env(config);
  EXPECT_EQ(env.Apply({env.Earned("ghost", 1, 5, 5)}).skipped, 1);
  auto p = env.Prefs("m1");
  p.add_opted_out_kinds("points_earned");
  env.Set(p);
  EXPECT_EQ(env.Apply({env.Earned("m1", 1, 5, 5)}).skipped, 1);
  v1::LoyaltyEvent milestone;
  milestone.set_member_id("m1");
  milestone.set_event_id("m1:2");
  milestone.mutable_milestone_reached()->set_title("First purchase");
  EXPECT_EQ(env.Apply({milestone}).skipped, 1);
  EXPECT_EQ(env.core->QueueDepth(), 0);
}

TEST(CoreTest, UndecodableEventsAreDeadLetteredAndDoNotStall) {
  Env env;
  env.Set(env.Prefs("m1"));
  InputMessage garbage = env.Event(env.Earned("m1", 1, 1, 1));
  garbage.value = "\xff\xff not a proto";
  BatchResult r =
      env.core->ApplyBatch({garbage, env.Event(env.Earned("m1", 2, 3, 4))}, DecodeEvent);
  EXPECT_EQ(r.dead_lettered, 1);
  EXPECT_EQ(env.core->QueueDepth(), 2);
  int dlq = 0;
  env.store->Scan(kOutboxCf, "", "", [&](std::string_view, std::string_view v) {
    v1::internal::OutboxRecord record;
    record.ParseFromArray(v.data(), static_cast<int>(v.size()));
    dlq += record.topic() == "loyalty.events.v1.dlq";
    return true;
  });
  EXPECT_EQ(dlq, 1);
}

TEST(CoreTest, QuietHoursDelayButTransactionalGoesAtOnce) {
  Env env;
  auto p = env.Prefs("m1");
  p.mutable_quiet_hours()->set_start_minute(22 * 60);
  p.mutable_quiet_hours()->set_end_minute(8 * 60);
  p.set_utc_offset_minutes(120);  // UTC+2
  env.Set(p);
  env.clock.Set(kJan1 + 21 * kHourMs);  // 23:00 local
  env.Apply({env.Earned("m1", 1, 10, 10), env.Voucher("m1", 2)});
  auto due = env.core->TakeDue("email", 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind(), "reward_redeemed");
  env.core->RecordAttempt(due[0].notification_id(), Ok());
  env.clock.Set(kJan1 + kDayMs + 6 * kHourMs - 1);  // 07:59:59.999 local
  EXPECT_TRUE(env.core->TakeDue("email", 10).empty());
  env.clock.Advance(1);  // 08:00 local
  due = env.core->TakeDue("email", 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind(), "points_earned");
}

TEST(CoreTest, QuietHoursInANamedZoneFollowItsChangeOfClocks) {
  constexpr int64_t kMar28 = 1'774'656'000'000;  // 2026-03-28T00:00Z; Kyiv goes to EEST the 29th
  Env env;
  auto p = env.Prefs("m1");
  p.mutable_quiet_hours()->set_start_minute(22 * 60);
  p.mutable_quiet_hours()->set_end_minute(8 * 60);
  p.set_utc_offset_minutes(120);  // ignored: the zone decides
  p.set_time_zone("Europe/Kyiv");
  env.Set(p);
  env.clock.Set(kMar28 + 21 * kHourMs);  // 23:00 EET
  env.Apply({env.Earned("m1", 1, 10, 10)});
  env.clock.Set(kMar28 + kDayMs + 5 * kHourMs - 1);  // 07:59:59.999 EEST
  EXPECT_TRUE(env.core->TakeDue("email", 10).empty());
  env.clock.Advance(1);  // 08:00 EEST, 05:00Z (a fixed UTC+2 would wait until 06:00Z)
  EXPECT_EQ(env.core->TakeDue("email", 10).size(), 1u);
}

TEST(PreferencesTest, AnUnknownTimeZoneIsRefusedWithTheFieldNamed) {
  Env env;
  v1::SetPreferencesRequest r;
  *r.mutable_preferences() = env.Prefs("m1");
  r.mutable_preferences()->set_time_zone("Europe/Atlantis");
  r.set_idempotency_key("k1");
  auto bad = env.core->SetPreferences(kTestCaller, r);
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("preferences.time_zone:", 0), 0u);
  r.mutable_preferences()->set_time_zone("America/New_York");
  r.set_idempotency_key("k2");
  auto good = env.core->SetPreferences(kTestCaller, r);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->time_zone(), "America/New_York");
}

TEST(CoreTest, DailyCapMergesTheRestIntoADigestNextDay) {
  Env env;
  auto p = env.Prefs("m1", "pl");
  p.set_daily_cap(2);
  p.clear_channels();
  p.add_channels("email");
  env.Set(p);
  BatchResult r =
      env.Apply({env.Earned("m1", 1, 1, 1), env.Earned("m1", 2, 2, 3), env.Earned("m1", 3, 5, 8),
                 env.Voucher("m1", 4), env.Earned("m1", 5, 21, 29)});
  EXPECT_EQ(r.digested, 2);
  EXPECT_EQ((r.queued[{"points_earned", "email"}]), 2);
  EXPECT_EQ((r.queued[{"reward_redeemed", "email"}]), 1) << "transactional ignores the cap";
  EXPECT_EQ(env.core->FlushDigests(), 0);
  env.Restart();  // the digest survives a restart
  env.clock.Set(kJan1 + kDayMs - 1);
  EXPECT_EQ(env.core->FlushDigests(), 0);
  env.clock.Set(kJan1 + kDayMs);
  EXPECT_EQ(env.core->FlushDigests(), 1);
  auto list = env.List("m1");
  const v1::Notification* digest = nullptr;
  for (const auto& n : list) {
    if (n.kind() == "digest") digest = &n;
  }
  ASSERT_NE(digest, nullptr);
  EXPECT_EQ(digest->subject(), "2 powiadomienia");
  EXPECT_EQ(digest->body(),
            "Twoje powiadomienia (2):\n• Otrzymujesz 5 punktów. Twoje saldo: 8 punktów.\n"
            "• Otrzymujesz 21 punktów. Twoje saldo: 29 punktów.");
  // The new day has a fresh cap.
  EXPECT_EQ((env.Apply({env.Earned("m1", 6, 1, 30)}).queued[{"points_earned", "email"}]), 1);
}

TEST(CoreTest, DayCountersOfDaysOverAreSweptAndTheCapStillHolds) {
  Env env;
  auto p = env.Prefs("m1");
  p.set_daily_cap(1);
  env.Set(p);
  env.clock.Set(kJan1 + 12 * kHourMs);
  EXPECT_EQ((env.Apply({env.Earned("m1", 1, 1, 1)}).queued[{"points_earned", "email"}]), 1);
  EXPECT_EQ(SweepOldDayCounts(*env.store, env.clock.NowMs()), 0);   // today's counter stays
  EXPECT_EQ(env.Apply({env.Earned("m1", 2, 1, 2)}).digested, 1);    // so the cap holds
  EXPECT_EQ(SweepOldDayCounts(*env.store, kJan1 + 2 * kDayMs), 0);  // two days on: kept
  EXPECT_EQ(SweepOldDayCounts(*env.store, kJan1 + 3 * kDayMs), 1);  // three: gone
}

TEST(CoreTest, TransientFailuresBackOffThenDeadLetter) {
  NotificationConfig config = Env::Defaults();
  config.breaker.failure_threshold = 100;  // this test is about one notification's retries
  Env env(config);
  auto p = env.Prefs("m1");
  p.clear_channels();
  p.add_channels("sms");
  env.Set(p);
  env.Apply({env.Earned("m1", 1, 1, 1)});
  int64_t previous_delay = 0;
  for (int attempt = 1; attempt <= 4; ++attempt) {
    auto due = env.core->TakeDue("sms", 10);
    ASSERT_EQ(due.size(), 1u) << "attempt " << attempt;
    AttemptFacts f = env.core->RecordAttempt(due[0].notification_id(), Transient());
    if (attempt < 4) {
      ASSERT_EQ(f.outcome, "retry");
      auto n = env.List("m1")[0];
      int64_t delay = n.next_attempt_at_ms() - env.clock.NowMs();
      int64_t nominal = 1000LL << (attempt - 1);
      EXPECT_GE(delay, nominal / 2);
      EXPECT_LE(delay, nominal);
      EXPECT_TRUE(env.core->TakeDue("sms", 10).empty()) << "not before its time";
      env.clock.Advance(delay);
      previous_delay = delay;
    } else {
      EXPECT_EQ(f.outcome, "dead");
    }
  }
  auto n = env.List("m1")[0];
  EXPECT_EQ(n.status(), "dead");
  ASSERT_EQ(n.attempts_size(), 4);
  EXPECT_EQ(n.attempts(0).outcome(), "transient");
  EXPECT_EQ(n.attempts(0).detail(), "http 503");
  EXPECT_EQ(env.core->QueueDepth(), 0);
  (void)previous_delay;
}

TEST(CoreTest, PermanentFailureIsNotRetried) {
  Env env;
  auto p = env.Prefs("m1");
  env.Set(p);
  env.Apply({env.Earned("m1", 1, 1, 1)});
  auto due = env.core->TakeDue("email", 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(env.core->RecordAttempt(due[0].notification_id(), Permanent()).outcome, "dead");
  env.clock.Advance(kDayMs);
  EXPECT_TRUE(env.core->TakeDue("email", 10).empty());
  env.Restart();
  EXPECT_TRUE(env.core->TakeDue("email", 10).empty());
}

TEST(CoreTest, BreakerStopsAChannelAndLetsOneTrialThrough) {
  Env env;
  for (int i = 0; i < 5; ++i) {
    auto p = env.Prefs("m" + std::to_string(i));
    p.clear_channels();
    p.add_channels("sms");
    env.Set(p);
    env.Apply({env.Earned("m" + std::to_string(i), 1, 1, 1)});
  }
  auto due = env.core->TakeDue("sms", 3);
  ASSERT_EQ(due.size(), 3u);
  for (const auto& n : due) env.core->RecordAttempt(n.notification_id(), Transient());
  EXPECT_EQ(env.core->BreakerState("sms"), CircuitBreaker::State::kOpen);
  EXPECT_TRUE(env.core->TakeDue("sms", 10).empty()) << "two more are due, but the breaker is open";
  EXPECT_EQ(env.core->BreakerState("email"), CircuitBreaker::State::kClosed);
  env.clock.Advance(30000);
  due = env.core->TakeDue("sms", 10);
  ASSERT_EQ(due.size(), 1u) << "half-open: one trial";
  EXPECT_TRUE(env.core->TakeDue("sms", 10).empty());
  env.core->RecordAttempt(due[0].notification_id(), Ok());
  EXPECT_EQ(env.core->BreakerState("sms"), CircuitBreaker::State::kClosed);
  EXPECT_GE(env.core->TakeDue("sms", 10).size(), 1u);
}

TEST(CoreTest, ListNotificationsPagesNewestFirst) {
  Env env;
  auto p = env.Prefs("m1");
  p.clear_channels();
  p.add_channels("email");
  env.Set(p);
  for (int i = 1; i <= 7; ++i) {
    env.Apply({env.Earned("m1", i, i, i)});
    env.clock.Advance(1000);
  }
  v1::ListNotificationsRequest r;
  r.set_member_id("m1");
  r.set_page_size(3);
  std::vector<std::string> ids;
  do {
    auto page = env.core->ListNotifications(r);
    ASSERT_TRUE(page.ok());
    for (const auto& n : page->notifications()) ids.push_back(n.event_id());
    r.set_page_token(page->next_page_token());
  } while (!r.page_token().empty());
  ASSERT_EQ(ids.size(), 7u);
  EXPECT_EQ(ids.front(), "m1:7");
  EXPECT_EQ(ids.back(), "m1:1");
  r.set_page_token("zz");
  EXPECT_EQ(env.core->ListNotifications(r).status().code(), Code::kInvalidArgument);
}

TEST(TemplatesAdminTest, ReplacementIsValidatedPersistedAndUsed) {
  Env env;
  env.Set(env.Prefs("m1"));
  v1::SetTemplateRequest r;
  r.set_idempotency_key("t1");
  auto* t = r.mutable_template_();
  t->set_kind("points_earned");
  t->set_channel("sms");
  t->set_language("en");
  t->set_body("+{{points}} {{points_word}} ({{unknown}})");
  EXPECT_EQ(env.core->SetTemplate(kTestCaller, r).status().message(),
            "template.body: unknown variable 'unknown'");
  t->set_body("+{{points}} {{points_word}} = {{balance}}");
  ASSERT_TRUE(env.core->SetTemplate(kTestCaller, r).ok());
  env.Restart();
  v1::GetTemplateRequest g;
  g.set_kind("points_earned");
  g.set_channel("sms");
  g.set_language("en");
  EXPECT_EQ(env.core->GetTemplate(g)->source(), "custom");
  env.Apply({env.Earned("m1", 1, 1, 9)});
  for (const auto& n : env.List("m1")) {
    if (n.channel() == "sms") {
      EXPECT_EQ(n.body(), "+1 point = 9");
    } else {
      EXPECT_EQ(n.body(), "You earned 1 point. Your balance is now 9 points.");
    }
  }
}

TEST(BotTest, LinkOnceThenAnswerInTheMembersLanguage) {
  Env env;
  env.Set(env.Prefs("m1", "ru"));
  testing::FakeAccrual accrual(env.clock);
  v1::Balance balance;
  balance.set_available(3);
  balance.set_pending(7);
  accrual.SetBalance("m1", balance);
  v1::LedgerEntry bonus;
  bonus.set_available_delta(50);
  bonus.set_reason("welcome bonus");
  accrual.AddLedgerEntry("m1", bonus);
  BalanceBot bot(*env.core, &accrual);
  EXPECT_EQ(bot.Handle("555", "/balance").rfind("This chat is not linked", 0), 0u);
  v1::CreateTelegramLinkCodeRequest r;
  r.set_member_id("m1");
  r.set_idempotency_key("link-1");
  auto code = env.core->CreateTelegramLinkCode(kTestCaller, r);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(code->code().size(), 8u);
  EXPECT_EQ(bot.Handle("555", "/start " + code->code()),
            "Чат привязан. Спрашивайте /balance, /history или /rewards.");
  EXPECT_EQ(bot.Handle("556", "/start " + code->code()).rfind("This code is unknown", 0), 0u)
      << "a code links once";
  EXPECT_EQ(bot.Handle("555", "/balance"), "Ваш баланс: 3 балла. Ожидают: 7. Зарезервировано: 0.");
  EXPECT_EQ(bot.Handle("555", "/history"), "Последние операции:\n+50 баллов — welcome bonus");
  auto prefs = env.core->GetPreferences("m1");
  EXPECT_EQ(prefs->telegram_chat_id(), "555");
  EXPECT_EQ(prefs->channels(prefs->channels_size() - 1), "telegram");
  // An expired code is refused.
  r.set_idempotency_key("link-2");
  auto late = env.core->CreateTelegramLinkCode(kTestCaller, r);
  env.clock.Advance(16 * kMinuteMs);
  EXPECT_EQ(env.core->LinkTelegramChat(late->code(), "557").status().code(),
            Code::kFailedPrecondition);
}

}  // namespace
}  // namespace loyalty::notification
