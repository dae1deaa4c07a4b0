// The state modules on a real store: preferences, Telegram links, daily caps, digests and
// templates, each written through a transaction and read back after a restart.
#include <gtest/gtest.h>

#include "tests/unit/notification/module_env.h"

namespace loyalty::notification {
namespace {

TEST(PreferenceBookTest, SetKeepsTheLinkedChatAndSurvivesARestart) {
  ModuleEnv env;
  Txn txn;
  env.prefs->AttachTelegram(txn, MemberId("m1"), "12345", env.Now());
  const v1::Preferences* linked = env.prefs->Find(MemberId("m1"));
  ASSERT_NE(linked, nullptr);
  EXPECT_EQ(linked->channels(0), "telegram");
  ASSERT_TRUE(env.prefs->Set(txn, env.Prefs("m1"), env.Now()).ok());
  env.Commit(txn);
  env.Reopen();
  const v1::Preferences* p = env.prefs->Find(MemberId("m1"));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->telegram_chat_id(), "12345") << "a client that does not send it keeps it";
  EXPECT_EQ(p->email(), "m1@example.com");
}

TEST(PreferenceBookTest, RefusesInvalidAndErasesWithTheChat) {
  ModuleEnv env;
  Txn txn;
  v1::Preferences bad = env.Prefs("m1");
  bad.set_language("de");
  EXPECT_EQ(env.prefs->Set(txn, bad, env.Now()).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(env.prefs->Find(MemberId("m1")), nullptr);
  env.prefs->AttachTelegram(txn, MemberId("m1"), "777", env.Now());
  EXPECT_EQ(env.prefs->Erase(txn, MemberId("m1")), "777");
  EXPECT_EQ(env.prefs->Find(MemberId("m1")), nullptr);
  EXPECT_EQ(env.prefs->Erase(txn, MemberId("m1")), "");
}

TEST(PreferenceBookTest, ASmallCacheReadsPreferencesBackAndErasedOnesStayErased) {
  NotificationConfig config;
  config.preference_cache_bytes = 4 << 10;  // a handful of members
  ModuleEnv env(config);
  for (int i = 0; i < 100; ++i) {
    Txn txn;
    std::string member = "m" + std::to_string(i);
    ASSERT_TRUE(env.prefs->Set(txn, env.Prefs(member), env.Now()).ok());
    if (i % 10 == 0)
      env.prefs->AttachTelegram(txn, MemberId(member), std::to_string(7000 + i), env.Now());
    env.Commit(txn);
  }
  EXPECT_GT(env.prefs->cache_stats().evictions, 50);
  EXPECT_LE(env.prefs->cache_stats().bytes, 4 << 10);
  for (int i = 0; i < 100; ++i) {
    std::string member = "m" + std::to_string(i);
    const v1::Preferences* p = env.prefs->Find(MemberId(member));
    ASSERT_NE(p, nullptr) << member;
    EXPECT_EQ(p->email(), member + "@example.com");
    EXPECT_EQ(p->telegram_chat_id(), i % 10 == 0 ? std::to_string(7000 + i) : "") << member;
    env.prefs->Trim();
  }
  // An erasure is visible at once: a read before it is durable does not bring them back.
  Txn erase;
  EXPECT_EQ(env.prefs->Erase(erase, MemberId("m10")), "7010");
  env.store->Stage([&](StagedWrite& write) { erase.WriteTo(write, *env.outbox); });
  EXPECT_EQ(env.prefs->Find(MemberId("m10")), nullptr);
  env.Reopen();
  EXPECT_EQ(env.prefs->Find(MemberId("m10")), nullptr);
  EXPECT_NE(env.prefs->Find(MemberId("m11")), nullptr);
}

TEST(PreferenceBookTest, WantsNeedsAChannelNoOptOutAndAnEnabledKind) {
  NotificationConfig config;
  config.disabled_kinds = {"welcome"};
  ModuleEnv env(config);
  v1::Preferences p = env.Prefs("m1");
  EXPECT_FALSE(env.prefs->Wants(nullptr, "points_earned"));
  EXPECT_TRUE(env.prefs->Wants(&p, "points_earned"));
  EXPECT_FALSE(env.prefs->Wants(&p, "welcome"));
  p.add_opted_out_kinds("points_earned");
  EXPECT_FALSE(env.prefs->Wants(&p, "points_earned"));
  p.clear_channels();
  EXPECT_FALSE(env.prefs->Wants(&p, "tier_changed"));
  EXPECT_EQ(env.prefs->LanguageOf(nullptr), "en");
}

TEST(TelegramLinksTest, ACodeWorksOnceAndExpires) {
  ModuleEnv env;
  Txn txn;
  auto code = env.links->CreateCode(txn, "m1", env.Now());
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(code->code().size(), 8u);
  EXPECT_EQ(env.links->CreateCode(txn, "", env.Now()).status().code(), Code::kInvalidArgument);
  env.Commit(txn);
  Txn use;
  auto member = env.links->UseCode(use, code->code(), env.Now());
  ASSERT_TRUE(member.ok());
  EXPECT_EQ(member->value(), "m1");
  env.links->LinkChat(use, "42", *member);
  env.Commit(use);
  Txn again;
  EXPECT_EQ(env.links->UseCode(again, code->code(), env.Now()).status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(env.links->UseCode(again, "00000000", env.Now()).status().code(), Code::kNotFound);
  EXPECT_EQ(env.links->MemberOfChat("42"), MemberId("m1"));
  Txn late;
  auto expiring = env.links->CreateCode(late, "m2", env.Now());
  env.Commit(late);
  Txn used_late;
  auto after = env.links->UseCode(used_late, expiring->code(),
                                  env.Now() + DurationMs(env.config.link_code_ttl_ms));
  EXPECT_EQ(after.status().message(), "code: expired");
}

TEST(DailyCapsTest, CountsPerDayAndSurviveARestart) {
  ModuleEnv env;
  Txn txn;
  EXPECT_EQ(env.caps->Count(MemberId("m1"), 100), 0);
  env.caps->Increment(txn, MemberId("m1"), 100);
  env.caps->Increment(txn, MemberId("m1"), 100);
  env.caps->Increment(txn, MemberId("m1"), 101);
  env.Commit(txn);
  env.Reopen();
  EXPECT_EQ(env.caps->Count(MemberId("m1"), 100), 2);
  EXPECT_EQ(env.caps->Count(MemberId("m1"), 101), 1);
  EXPECT_EQ(env.caps->Count(MemberId("m2"), 100), 0);
  EXPECT_EQ(SweepOldDayCounts(*env.store, 104 * kDayMs), 2) << "days 100 and 101 are over";
}

TEST(DailyCapsTest, AStagedTransactionsCountersAreReadFromTheStore) {
  ModuleEnv env;
  Txn first;
  env.caps->Increment(first, MemberId("m1"), 100);
  env.caps->Increment(first, MemberId("m1"), 100);
  EXPECT_EQ(env.caps->Count(MemberId("m1"), 100), 2) << "within a transaction";
  // Staged, not yet durable: the next transaction reads the visible counter.
  env.store->Stage([&](StagedWrite& write) { first.WriteTo(write, *env.outbox); });
  env.caps->Staged();
  EXPECT_EQ(env.caps->Count(MemberId("m1"), 100), 2);
  Txn second;
  env.caps->Increment(second, MemberId("m1"), 100);
  env.Commit(second);
  env.Reopen();
  EXPECT_EQ(env.caps->Count(MemberId("m1"), 100), 3);
}

TEST(DigestBookTest, AddsToTheFirstDaysDigestAndHandsItOverWhenDue) {
  ModuleEnv env;
  Txn txn;
  DigestItem a, b;
  a.set_line("a");
  b.set_line("b");
  env.digests->Add(txn, MemberId("m1"), 7, TimeMs(5000), a);
  env.digests->Add(txn, MemberId("m1"), 8, TimeMs(9000), b);
  env.Commit(txn);
  env.Reopen();
  ASSERT_EQ(env.digests->size(), 1u);
  Txn take;
  EXPECT_TRUE(env.digests->TakeDue(take, TimeMs(4999)).empty());
  auto due = env.digests->TakeDue(take, TimeMs(5000));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].local_day(), 7);
  EXPECT_EQ(due[0].items_size(), 2);
  env.Commit(take);
  env.Reopen();
  EXPECT_EQ(env.digests->size(), 0u);
}

TEST(TemplateBookTest, AReplacementIsValidatedSavedAndLoaded) {
  ModuleEnv env;
  Txn txn;
  v1::Template t = env.templates->Get("welcome", "sms", "en");
  t.set_body("Hi {{nope}}");
  EXPECT_EQ(env.templates->Set(txn, t).status().code(), Code::kInvalidArgument);
  t.set_body("Hi {{member_id}}");
  ASSERT_TRUE(env.templates->Set(txn, t).ok());
  env.Commit(txn);
  env.Reopen();
  EXPECT_EQ(env.templates->Get("welcome", "sms", "en").body(), "Hi {{member_id}}");
  EXPECT_EQ(TemplateBook::CheckLookup("welcome", "fax", "en").message(),
            "channel: unknown channel 'fax'");
}

}  // namespace
}  // namespace loyalty::notification
