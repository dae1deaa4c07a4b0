#include "services/accrual/core/campaign_effects.h"

#include <gtest/gtest.h>

#include <set>

#include "services/accrual/core/campaign_book.h"

namespace loyalty::accrual {
namespace {

EffectInput Purchase(int64_t value, int64_t matching_minor, int32_t rate_bp = 500) {
  return {value, MinorUnits(matching_minor), rate_bp, /*minor_units_per_point=*/1};
}

const CampaignEffectSpec& Effect(v1::CampaignEffect effect) {
  const CampaignEffectSpec* spec = FindCampaignEffect(effect);
  EXPECT_NE(spec, nullptr);
  return *spec;
}

TEST(CampaignEffectsTest, EveryEffectOfTheProtoHasOneEntryAndUniqueNames) {
  std::set<std::string_view> names;
  for (int i = v1::CampaignEffect_MIN; i <= v1::CampaignEffect_MAX; ++i) {
    if (!v1::CampaignEffect_IsValid(i) || i == v1::CAMPAIGN_EFFECT_UNSPECIFIED) continue;
    const CampaignEffectSpec* spec = FindCampaignEffect(static_cast<v1::CampaignEffect>(i));
    ASSERT_NE(spec, nullptr) << v1::CampaignEffect_Name(i) << " has no table entry";
    for (auto name : spec->names) {
      EXPECT_TRUE(names.insert(name).second) << name;
      EXPECT_EQ(FindCampaignEffect(name), spec);
    }
  }
  EXPECT_EQ(FindCampaignEffect(v1::CAMPAIGN_EFFECT_UNSPECIFIED), nullptr);
  EXPECT_EQ(FindCampaignEffect("double"), nullptr);
}

TEST(CampaignEffectsTest, MultiplierAddsTheBasePointsAgainTimesTheExtraFactor) {
  const auto& multiplier = Effect(v1::CAMPAIGN_EFFECT_MULTIPLIER);
  // 5% of 10,000 is 500 base points; 2x adds 500, 1.5x adds 250, rounded down.
  EXPECT_EQ(multiplier.share(Purchase(20'000, 10'000)), Points(500));
  EXPECT_EQ(multiplier.share(Purchase(15'000, 10'001)), Points(250));
  EXPECT_TRUE(multiplier.validate(20'000).ok());
  EXPECT_FALSE(multiplier.validate(10'000).ok());  // 1x adds nothing
  EXPECT_EQ(multiplier.describe(15'000), "1.5x base points");
}

TEST(CampaignEffectsTest, FixedBonusIsTheSameForEveryQualifyingPurchase) {
  const auto& fixed = Effect(v1::CAMPAIGN_EFFECT_FIXED_BONUS);
  EXPECT_EQ(fixed.share(Purchase(50, 1)), Points(50));
  EXPECT_EQ(fixed.share(Purchase(50, 1'000'000)), Points(50));
  EXPECT_FALSE(fixed.validate(0).ok());
  EXPECT_EQ(fixed.describe(50), "+50 points per purchase");
}

TEST(CampaignEffectsTest, LineBonusIsAShareOfTheMatchingLines) {
  const auto& line = Effect(v1::CAMPAIGN_EFFECT_LINE_BONUS);
  EXPECT_EQ(line.share(Purchase(1'000, 2'999)), Points(299));  // 10% of 2,999, rounded down
  EXPECT_EQ(line.describe(1'000), "10% of matching lines");
}

TEST(CampaignEffectsTest, ValidationGoesThroughTheEffectsEntry) {
  v1::Campaign campaign;
  campaign.set_name("double");
  campaign.set_effect(v1::CAMPAIGN_EFFECT_MULTIPLIER);
  campaign.set_value(5'000);
  Status status = ValidateCampaign(campaign);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_NE(status.message().find("campaign.value"), std::string::npos);
  campaign.set_effect(v1::CAMPAIGN_EFFECT_UNSPECIFIED);
  EXPECT_NE(ValidateCampaign(campaign).message().find("campaign.effect"), std::string::npos);
}

}  // namespace
}  // namespace loyalty::accrual
