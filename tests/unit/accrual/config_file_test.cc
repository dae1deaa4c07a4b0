// The example program configuration shipped in deploy/config/examples must load, so the
// documentation stays true.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "services/accrual/core/accrual_config.h"

namespace loyalty::accrual {
namespace {

TEST(ConfigFileTest, ShippedConfigurationLoads) {
  std::ifstream in(std::string(LOYALTY_SOURCE_DIR) +
                   "/deploy/config/examples/accrual-program.yaml");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  auto config = Config::FromYamlText(text.str());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto program = AccrualConfig::FromConfig(*config);
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  EXPECT_EQ(program->tiers.size(), 4u);
  EXPECT_EQ(program->tiers[2].benefits.size(), 2u);
  EXPECT_EQ(program->return_window_days, 14);
  EXPECT_EQ(program->expiry, ExpiryPolicy::kRolling);
  ASSERT_NE(program->FindPartner("fuel-station"), nullptr);
  EXPECT_EQ(program->milestone_bonus.at("purchases_10"), 100);
}

TEST(ConfigFileTest, BadRulesAreRefusedWithTheKeyNamed) {
  auto config = Config::FromYamlText(
      "program:\n  tiers:\n    - {name: A, earn_rate_bp: 100}\n    - {name: B, earn_rate_bp: "
      "200}\n");
  auto program = AccrualConfig::FromConfig(*config);
  ASSERT_FALSE(program.ok());
  EXPECT_NE(program.status().message().find("program.tiers.B"), std::string::npos);
  config = Config::FromYamlText("expiry:\n  policy: sometimes\n");
  EXPECT_EQ(AccrualConfig::FromConfig(*config).status().message().rfind("expiry.policy:", 0), 0u);
}

}  // namespace
}  // namespace loyalty::accrual
