// The reward suggestion of expiring-soon messages and the bot's /rewards, against a fake
// RedemptionClient, on a real RocksDB in a temp dir with a manual clock.
#include "services/notification/core/suggestion.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>

#include "common/outbox.h"
#include "services/notification/core/bot.h"
#include "services/notification/core/notification_core.h"
#include "services/notification/event_decoder.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_caller.h"
#include "tests/support/test_store.h"

namespace loyalty::notification {
namespace {

constexpr int64_t kJan1 = 1'767'225'600'000;  // 2026-01-01T00:00Z

v1::RewardOffer Offer(const std::string& id, const std::string& name, int64_t price,
                      bool affordable) {
  v1::RewardOffer o;
  o.mutable_reward()->set_reward_id(id);
  o.mutable_reward()->set_name(name);
  o.mutable_reward()->set_points_price(price);
  o.set_affordable(affordable);
  return o;
}

v1::ListRewardsResponse Offers(std::vector<v1::RewardOffer> offers) {
  v1::ListRewardsResponse r;
  for (auto& o : offers) *r.add_offers() = std::move(o);
  return r;
}

// Answers from a table; counts calls; can fail. Checks from inside the call that the core's
// lock is free: another thread must get through a locking call (QueueDepth) while we wait.
class FakeRedemption : public RedemptionClient {
 public:
  StatusOr<v1::ListRewardsResponse> ListRewards(const std::string& member_id) override {
    ++calls;
    if (core != nullptr) {
      // Kept alive in the fake: if the lock were held, destroying it here would hang.
      probes.push_back(std::async(std::launch::async, [c = core] { return c->QueueDepth(); }));
      if (probes.back().wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
        called_under_lock = true;
      }
    }
    if (fail) return Status(Code::kUnavailable, "redemption down");
    auto it = by_member.find(member_id);
    if (it == by_member.end()) return v1::ListRewardsResponse();
    return it->second;
  }
  std::map<std::string, v1::ListRewardsResponse> by_member;
  bool fail = false;
  int calls = 0;
  NotificationCore* core = nullptr;
  bool called_under_lock = false;
  std::vector<std::future<int64_t>> probes;
};

class Env {
 public:
  Env() {
    clock.Set(kJan1 + 12 * kHourMs);
    store = testing::OpenStoreOrThrow(dir.path(), NotificationColumnFamilies());
    outbox = std::make_unique<Outbox>(*store);
    NotificationConfig config;
    config.seed = 7;
    core = std::make_unique<NotificationCore>(*store, *outbox, clock, config);
    redemption.core = core.get();
    core->SetRedemption(&redemption);
  }
  void Prefs(const std::string& member, const std::string& language) {
    v1::SetPreferencesRequest r;
    r.mutable_preferences()->set_member_id(member);
    r.mutable_preferences()->set_language(language);
    r.mutable_preferences()->set_email(member + "@example.com");
    r.mutable_preferences()->add_channels("email");
    r.set_idempotency_key("prefs-" + member);
    if (!core->SetPreferences(kTestCaller, r).ok()) throw std::runtime_error("prefs");
  }
  BatchResult Expiring(const std::string& member, int seq, int64_t points, int64_t balance) {
    v1::LoyaltyEvent e;
    e.set_member_id(member);
    e.set_event_id(member + ":" + std::to_string(seq));
    e.mutable_points_expiring_soon()->set_points(points);
    e.mutable_points_expiring_soon()->set_expires_at_ms(kJan1 + 10 * 24 * kHourMs);
    e.mutable_points_expiring_soon()->mutable_balance()->set_available(balance);
    InputMessage m;
    m.topic = kEventsTopic;
    m.offset = next_offset_++;
    m.key = member;
    m.value = e.SerializeAsString();
    return core->ApplyBatch({m}, DecodeEvent);
  }
  std::string Body(const std::string& member) {
    auto due = core->TakeDue("email", 100);
    for (const auto& n : due) {
      if (n.member_id() == member) return n.body();
    }
    return "<none>";
  }

  testing::TempDir dir;
  ManualClock clock;
  FakeRedemption redemption;
  std::unique_ptr<Store> store;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<NotificationCore> core;

 private:
  int64_t next_offset_ = 0;
};

TEST(PickSuggestionTest, CheapestCoveringTheExpiringPointsElseDearestAffordable) {
  auto offers = Offers({Offer("a", "Coffee", 100, true), Offer("b", "Cinema", 400, true),
                        Offer("c", "Lunch", 250, true), Offer("d", "Trip", 5000, false)});
  EXPECT_EQ(PickSuggestion(offers, 200)->reward_id(), "c") << "cheapest with price >= 200";
  EXPECT_EQ(PickSuggestion(offers, 80)->reward_id(), "a");
  EXPECT_EQ(PickSuggestion(offers, 1000)->reward_id(), "b") << "none covers: dearest affordable";
  // Equal prices: the smaller id, whatever the order they came in.
  auto ties = Offers({Offer("z", "Z", 300, true), Offer("k", "K", 300, true)});
  EXPECT_EQ(PickSuggestion(ties, 100)->reward_id(), "k");
  EXPECT_EQ(PickSuggestion(ties, 900)->reward_id(), "k");
  EXPECT_FALSE(PickSuggestion(Offers({Offer("d", "Trip", 5000, false)}), 10).has_value())
      << "nothing affordable: no suggestion";
  EXPECT_FALSE(PickSuggestion(Offers({}), 10).has_value());
}

TEST(ExpiringSoonTest, NamesTheSuggestedRewardInEveryLanguage) {
  Env env;
  const std::map<std::string, std::string> expected = {
      {"en", "You can afford Lunch for 250 points."},
      {"uk", "Вам доступна винагорода «Lunch» за 250 балів."},
      {"ru", "Вам доступна награда «Lunch» за 250 баллов."},
      {"pl", "Stać Cię na nagrodę „Lunch” za 250 punktów."},
      {"hu", "Beválthatja: Lunch (250 pont)."},
  };
  int seq = 0;
  for (const auto& [language, sentence] : expected) {
    std::string member = "m-" + language;
    env.Prefs(member, language);
    env.redemption.by_member[member] =
        Offers({Offer("a", "Coffee", 100, true), Offer("c", "Lunch", 250, true),
                Offer("d", "Trip", 5000, false)});
    BatchResult r = env.Expiring(member, ++seq, 200, 600);
    EXPECT_EQ(r.queued.size(), 1u);
    std::string body = env.Body(member);
    EXPECT_NE(body.find(sentence), std::string::npos) << language << ": " << body;
  }
  EXPECT_EQ(env.redemption.calls, 5);
  EXPECT_FALSE(env.redemption.called_under_lock) << "redemption must be asked outside the lock";
}

TEST(ExpiringSoonTest, NoAffordableRewardMeansNoSentence) {
  Env env;
  env.Prefs("m1", "en");
  env.redemption.by_member["m1"] = Offers({Offer("d", "Trip", 5000, false)});
  env.Expiring("m1", 1, 200, 600);
  std::string body = env.Body("m1");
  EXPECT_NE(body.find("Points expiring on"), std::string::npos) << body;
  EXPECT_EQ(body.find("You can afford"), std::string::npos) << body;
  EXPECT_EQ(body.find("{{"), std::string::npos) << body;
}

TEST(ExpiringSoonTest, RedemptionFailingSendsWithoutSuggestionAndStopsAskingForTheBatch) {
  Env env;
  env.Prefs("m1", "en");
  env.Prefs("m2", "en");
  env.redemption.fail = true;
  std::vector<InputMessage> batch;
  for (const char* member : {"m1", "m2"}) {
    v1::LoyaltyEvent e;
    e.set_member_id(member);
    e.set_event_id(std::string(member) + ":1");
    e.mutable_points_expiring_soon()->set_points(50);
    InputMessage m;
    m.topic = kEventsTopic;
    m.offset = static_cast<int64_t>(batch.size());
    m.value = e.SerializeAsString();
    batch.push_back(m);
  }
  BatchResult r = env.core->ApplyBatch(batch, DecodeEvent);
  EXPECT_EQ((r.queued[{"expiring_soon", "email"}]), 2) << "sent anyway";
  EXPECT_EQ(env.redemption.calls, 1) << "one failure: the rest of the batch does not wait";
  auto due = env.core->TakeDue("email", 10);
  ASSERT_EQ(due.size(), 2u);
  for (const auto& n : due) EXPECT_EQ(n.body().find("You can afford"), std::string::npos);
}

TEST(ExpiringSoonTest, AsksOnlyForMembersWhoWillBeToldAndNotForReplays) {
  Env env;
  env.Prefs("m1", "en");
  env.Expiring("nobody", 1, 50, 100);  // no preferences: nothing to render
  EXPECT_EQ(env.redemption.calls, 0);
  env.Expiring("m1", 1, 50, 100);
  EXPECT_EQ(env.redemption.calls, 1);
  env.Expiring("m1", 1, 50, 100);  // the same event id again
  EXPECT_EQ(env.redemption.calls, 1);
}

TEST(ExpiringSoonTest, JsonEncodedEventsGetTheSuggestionToo) {
  Env env;
  env.Prefs("m1", "en");
  env.redemption.by_member["m1"] = Offers({Offer("a", "Coffee", 100, true)});
  InputMessage m;
  m.topic = kEventsTopic;
  m.value = R"({"eventId":"m1:json-1","memberId":"m1","pointsExpiringSoon":{"points":"40"}})";
  env.core->ApplyBatch({m}, DecodeEvent);
  EXPECT_NE(env.Body("m1").find("You can afford Coffee for 100 points."), std::string::npos);
}

TEST(ExpiringSoonTest, WithoutRedemptionBehavesAsBefore) {
  Env env;
  env.core->SetRedemption(nullptr);
  env.Prefs("m1", "en");
  env.Expiring("m1", 1, 50, 100);
  std::string body = env.Body("m1");
  EXPECT_EQ(body.rfind("Points expiring on", 0), 0u) << body;
  EXPECT_EQ(body.find("afford"), std::string::npos);
  EXPECT_EQ(env.redemption.calls, 0);
}

TEST(TemplatesTest, SuggestionVariablesAreAllowedOnlyForExpiringSoon) {
  EXPECT_TRUE(ValidateTemplate("body",
                               "{{#has_reward}}{{reward_name}} {{reward_points}} "
                               "{{reward_points_word}}{{/has_reward}}",
                               AllowedVariables("expiring_soon"))
                  .ok());
  EXPECT_FALSE(
      ValidateTemplate("body", "{{reward_points}}", AllowedVariables("points_earned")).ok());
}

TEST(BotRewardsTest, ListsUpToFiveAffordableCheapestFirstInTheMembersLanguage) {
  Env env;
  env.Prefs("m1", "uk");
  v1::CreateTelegramLinkCodeRequest r;
  r.set_member_id("m1");
  r.set_idempotency_key("link-1");
  auto code = env.core->CreateTelegramLinkCode(kTestCaller, r);
  ASSERT_TRUE(code.ok());
  env.redemption.core = nullptr;  // the bot holds no lock; no probe needed
  BalanceBot bot(*env.core, nullptr, &env.redemption);
  bot.Handle("900", "/start " + code->code());

  env.redemption.by_member["m1"] =
      Offers({Offer("g", "G", 700, true), Offer("a", "A", 100, true), Offer("b", "B", 201, true),
              Offer("x", "X", 9999, false), Offer("c", "C", 300, true), Offer("d", "D", 401, true),
              Offer("e", "E", 500, true)});
  EXPECT_EQ(bot.Handle("900", "/rewards"),
            "Винагороди, доступні вам зараз:\nA — 100 балів\nB — 201 бал\nC — 300 балів\n"
            "D — 401 бал\nE — 500 балів");

  env.redemption.by_member["m1"] = Offers({Offer("x", "X", 9999, false)});
  EXPECT_EQ(bot.Handle("900", "/rewards"), "Поки що жодна винагорода не доступна за ваші бали.");

  env.redemption.fail = true;
  EXPECT_EQ(bot.Handle("900", "/rewards"), "Вибачте, зараз це недоступно. Спробуйте пізніше.");

  BalanceBot without(*env.core, nullptr);
  EXPECT_EQ(without.Handle("900", "/rewards"), "Каталог винагород тут поки недоступний.");
}

}  // namespace
}  // namespace loyalty::notification
