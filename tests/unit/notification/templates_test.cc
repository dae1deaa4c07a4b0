#include "services/notification/core/templates.h"

#include <gtest/gtest.h>

#include "services/notification/core/i18n.h"
#include "services/notification/core/mapper.h"

namespace loyalty::notification {
namespace {

TEST(TemplateTest, RendersVariablesAndSections) {
  Vars vars{{"name", "Ann"}, {"vip", "true"}, {"empty", ""}};
  EXPECT_EQ(Render("Hi {{name}}!", vars), "Hi Ann!");
  EXPECT_EQ(Render("{{#vip}}VIP {{name}}{{/vip}}{{^vip}}guest{{/vip}}", vars), "VIP Ann");
  EXPECT_EQ(Render("{{#empty}}x{{/empty}}{{^empty}}none{{/empty}}", vars), "none");
  EXPECT_EQ(Render("{{#vip}}a{{#empty}}b{{/empty}}c{{/vip}}", vars), "ac");
  EXPECT_EQ(Render("{{ name }}", vars), "Ann");
  EXPECT_EQ(Render("no tags", vars), "no tags");
}

TEST(TemplateTest, ValidationRefusesUnknownVariablesAndBadSyntax) {
  std::set<std::string> allowed{"points", "vip"};
  EXPECT_TRUE(ValidateTemplate("body", "{{points}} {{#vip}}x{{/vip}}", allowed).ok());
  Status s = ValidateTemplate("body", "{{pionts}}", allowed);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "body: unknown variable 'pionts'");
  EXPECT_FALSE(ValidateTemplate("body", "{{points", allowed).ok());
  EXPECT_FALSE(ValidateTemplate("body", "{{#vip}}open", allowed).ok());
  EXPECT_FALSE(ValidateTemplate("body", "{{/vip}}", allowed).ok());
  EXPECT_FALSE(ValidateTemplate("body", "{{#vip}}{{/points}}", allowed).ok());
  EXPECT_FALSE(ValidateTemplate("body", "{{{points}}}", allowed).ok());
  EXPECT_FALSE(ValidateTemplate("body", "{{> partial}}", allowed).ok());
  EXPECT_FALSE(ValidateTemplate("body", "x }} y", allowed).ok());
}

TEST(TemplateTest, EveryShippedDefaultIsValidInEveryLanguage) {
  for (const auto& kind : AllKinds()) {
    for (const char* language : kLanguages) {
      v1::Template t = DefaultTemplate(kind, language);
      EXPECT_EQ(t.language(), language) << kind << " has no default in " << language;
      EXPECT_FALSE(t.body().empty()) << kind << "/" << language;
      EXPECT_FALSE(t.subject().empty()) << kind << "/" << language;
      for (const char* channel : kChannels) {
        t.set_channel(channel);
        EXPECT_TRUE(TemplateSet::Validate(t).ok())
            << kind << "/" << language << ": " << TemplateSet::Validate(t).message();
      }
    }
  }
}

TEST(TemplateTest, TemplateSetPrefersCustomAndValidates) {
  TemplateSet set;
  v1::Template t;
  t.set_kind("points_earned");
  t.set_channel("sms");
  t.set_language("uk");
  t.set_body("+{{points}} {{points_word}}, {{bogus}}");
  EXPECT_EQ(set.Put(t).message(), "template.body: unknown variable 'bogus'");
  t.set_body("+{{points}} {{points_word}}");
  ASSERT_TRUE(set.Put(t).ok());
  EXPECT_EQ(set.Get("points_earned", "sms", "uk").source(), "custom");
  EXPECT_EQ(set.Get("points_earned", "email", "uk").source(), "default");
  t.set_channel("fax");
  EXPECT_EQ(set.Put(t).code(), Code::kInvalidArgument);
}

TEST(MapperTest, PointsEarnedRendersWithPluralsInEachLanguage) {
  v1::LoyaltyEvent e;
  e.set_event_id("m1:2");
  e.set_member_id("m1");
  auto* earned = e.mutable_points_earned();
  earned->set_points(22);
  earned->mutable_breakdown()->set_credited(22);
  earned->mutable_balance()->set_available(101);
  struct Case {
    const char* language;
    const char* expected;
  } cases[] = {
      {"en", "You earned 22 points. Your balance is now 101 points."},
      {"uk", "Вам нараховано 22 бали. Ваш баланс: 101 бал."},
      {"ru", "Вам начислено 22 балла. Ваш баланс: 101 балл."},
      {"pl", "Otrzymujesz 22 punkty. Twoje saldo: 101 punktów."},
      {"hu", "Jóváírt pontok: 22 pont. Egyenlege: 101 pont."},
  };
  for (const auto& c : cases) {
    auto m = MapEvent(e, c.language, LocalZone::Fixed(0));
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->kind, "points_earned");
    EXPECT_EQ(Render(DefaultTemplate(m->kind, c.language).body(), m->vars), c.expected);
  }
}

TEST(MapperTest, KindsAndTransactionalFlags) {
  v1::LoyaltyEvent e;
  e.set_member_id("m1");
  e.mutable_points_earned()->set_points(10);
  e.mutable_points_earned()->mutable_breakdown()->set_credited(10);
  e.mutable_points_earned()->mutable_breakdown()->set_pending(true);  // return window
  auto thanks = MapEvent(e, "uk", LocalZone::Fixed(0));
  EXPECT_EQ(thanks->kind, "purchase_thanks");
  EXPECT_EQ(Render(DefaultTemplate("purchase_thanks", "uk").body(), thanks->vars),
            "Дякуємо за покупку! Після завершення терміну повернення ви отримаєте 10 балів.");
  e.mutable_points_earned()->mutable_breakdown()->set_pending(false);
  e.mutable_points_earned()->mutable_breakdown()->set_credited(0);  // all repaid debt
  EXPECT_EQ(Render(DefaultTemplate("purchase_thanks", "en").body(),
                   MapEvent(e, "en", LocalZone::Fixed(0))->vars),
            "Thank you for your purchase!");
  e.mutable_reward_redeemed()->add_voucher_codes("ABC-123");
  e.mutable_reward_redeemed()->set_reward_name("Coffee");
  auto m = MapEvent(e, "en", LocalZone::Fixed(0));
  EXPECT_EQ(m->kind, "reward_redeemed");
  EXPECT_TRUE(m->transactional);
  EXPECT_NE(Render(DefaultTemplate("reward_redeemed", "en").body(), m->vars).find("ABC-123"),
            std::string::npos);
  e.mutable_points_held()->set_points(5);
  EXPECT_FALSE(MapEvent(e, "en", LocalZone::Fixed(0)).has_value());
  e.mutable_points_awarded()->set_source("welcome");
  e.mutable_points_awarded()->set_points(50);
  EXPECT_FALSE(MapEvent(e, "en", LocalZone::Fixed(0)).has_value());
  e.mutable_tier_changed()->set_upgrade(false);
  e.mutable_tier_changed()->set_from_tier("gold");
  e.mutable_tier_changed()->set_to_tier("silver");
  EXPECT_EQ(Render(DefaultTemplate("tier_changed", "en").body(),
                   MapEvent(e, "en", LocalZone::Fixed(0))->vars),
            "Your tier changed from gold to silver. Keep shopping to earn your tier back.");
}

}  // namespace
}  // namespace loyalty::notification
