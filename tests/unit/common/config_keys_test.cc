// The configuration key tables: unknown flags, environment variables and file keys refused
// with the nearest key named, defaults read from the table, the annotated default file that
// loads back to the same values, and each service's parser reading its struct's defaults.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/config.h"
#include "services/accrual/core/accrual_config.h"
#include "services/notification/core/notification_config.h"
#include "services/redemption/core/redemption_config.h"
#include "services/referral/core/referral_config.h"

namespace loyalty {
namespace {

const ConfigKeys kKeys = {
    StringKey("kafka.brokers", "127.0.0.1:9092", "brokers"),
    StringKey("grpc.address", "0.0.0.0:50051", "grpc"),
    IntKey("kafka.max_batch", 2000, "batch"),
    BoolKey("store.sync", true, "sync"),
    StringKey("empty", "", "an empty default"),
    StringKey("quoted", "{\"to\":\"{to}\"} # not a comment", "needs quoting in YAML"),
    NodeKey("program.tiers", "[{name: Bronze, earn_rate_bp: 100}]", "tiers"),
};

// A node's content, whatever style it was written in (a node keeps its style when emitted).
std::string Flow(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  std::string out = node.IsMap() ? "{" : "[";
  for (const auto& item : node) {
    out += node.IsMap() ? item.first.Scalar() + ": " + Flow(item.second) : Flow(item);
    out += ", ";
  }
  return out + (node.IsMap() ? "}" : "]");
}

StatusOr<Config> FromArgs(std::vector<std::string> args) {
  std::vector<char*> argv = {const_cast<char*>("prog")};
  for (auto& a : args) argv.push_back(a.data());
  return Config::FromArgs(static_cast<int>(argv.size()), argv.data(), kKeys);
}

StatusOr<Config> FromFile(const std::string& yaml) {
  auto config = Config::FromYamlText(yaml);
  if (!config.ok()) return config.status();
  config->Declare(kKeys);
  if (Status s = config->CheckKnownKeys(); !s.ok()) return s;
  return config;
}

TEST(ConfigKeysTest, DefaultsComeFromTheTable) {
  auto config = FromArgs({});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->GetString("kafka.brokers"), "127.0.0.1:9092");
  EXPECT_EQ(config->GetInt("kafka.max_batch"), 2000);
  EXPECT_TRUE(config->GetBool("store.sync"));
  EXPECT_EQ(config->GetString("empty"), "");
  YAML::Node tiers = config->GetNode("program.tiers");
  ASSERT_TRUE(tiers.IsSequence());
  EXPECT_EQ(tiers[0]["name"].as<std::string>(), "Bronze");
  EXPECT_THROW(config->GetString("kafka.undeclared"), std::logic_error);
}

TEST(ConfigKeysTest, UnknownFlagIsRefusedWithTheNearestKey) {
  auto config = FromArgs({"--grpc.adress=0.0.0.0:1"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Code::kInvalidArgument);
  EXPECT_NE(config.status().message().find("'--grpc.adress'"), std::string::npos)
      << config.status().message();
  EXPECT_NE(config.status().message().find("did you mean '--grpc.address'"), std::string::npos)
      << config.status().message();
  // Nothing near: no suggestion.
  config = FromArgs({"--completely-different"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().find("did you mean"), std::string::npos);
  // A list key cannot be a flag.
  EXPECT_FALSE(FromArgs({"--program.tiers=x"}).ok());
  // Known flags pass and win.
  config = FromArgs({"--grpc.address=127.0.0.1:0", "--kafka.max_batch", "5"});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->GetString("grpc.address"), "127.0.0.1:0");
  EXPECT_EQ(config->GetInt("kafka.max_batch"), 5);
}

TEST(ConfigKeysTest, UnknownEnvironmentVariableIsRefused) {
  setenv("LOYALTY_KAFKA_BROKRS", "x:1", 1);
  auto config = FromArgs({});
  unsetenv("LOYALTY_KAFKA_BROKRS");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("'LOYALTY_KAFKA_BROKRS'"), std::string::npos);
  EXPECT_NE(config.status().message().find("LOYALTY_KAFKA_BROKERS"), std::string::npos);
  // The platform's shared variables and the service's own keys pass.
  setenv("LOYALTY_ACCRUAL_ADDRESS", "a:1", 1);
  setenv("LOYALTY_KAFKA_MAX_BATCH", "7", 1);
  config = FromArgs({});
  unsetenv("LOYALTY_ACCRUAL_ADDRESS");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->GetInt("kafka.max_batch"), 7);
  unsetenv("LOYALTY_KAFKA_MAX_BATCH");
}

TEST(ConfigKeysTest, UnknownFileKeyIsRefusedAtAnyDepth) {
  auto config = FromFile("kafka:\n  brokers: a:1\ngrpc:\n  adress: b:2\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("'grpc.adress'"), std::string::npos);
  EXPECT_NE(config.status().message().find("'grpc.address'"), std::string::npos);
  EXPECT_FALSE(FromFile("unknown_top: 1\n").ok());
  // A map where a value belongs, and a value where a map belongs.
  EXPECT_FALSE(FromFile("kafka:\n  brokers: {a: 1}\n").ok());
  EXPECT_FALSE(FromFile("kafka: a:1\n").ok());
  // A list key holds whatever its parser reads; an empty file is fine.
  EXPECT_TRUE(FromFile("program:\n  tiers:\n    - {name: X, anything: 1}\n").ok());
  EXPECT_TRUE(FromFile("").ok());
}

TEST(ConfigKeysTest, DefaultFileLoadsBackToTheDefaults) {
  for (const ConfigKeys& keys :
       {kKeys, accrual::AccrualConfig::Keys(), redemption::RedemptionConfig::Keys(),
        referral::ReferralConfig::Keys(), notification::NotificationConfig::Keys()}) {
    const std::string text = DefaultConfigYaml("test file", keys);
    auto config = Config::FromYamlText(text);
    ASSERT_TRUE(config.ok()) << config.status().ToString() << "\n" << text;
    config->Declare(keys);
    ASSERT_TRUE(config->CheckKnownKeys().ok()) << text;
    for (const auto& key : keys) {
      // Read from the file itself: a key whose default the file loses would differ here.
      YAML::Node in_file = YAML::Load(text);
      for (size_t start = 0, dot;; start = dot + 1) {
        dot = key.path.find('.', start);
        in_file.reset(in_file[key.path.substr(start, dot - start)]);
        if (dot == std::string::npos) break;
      }
      ASSERT_TRUE(in_file.IsDefined()) << key.path << " missing from\n" << text;
      if (key.node) {
        EXPECT_EQ(Flow(in_file), Flow(YAML::Load(key.default_value))) << key.path;
      } else {
        EXPECT_EQ(in_file.Scalar(), key.default_value) << key.path;
      }
      EXPECT_NE(text.find("# " + key.meaning), std::string::npos) << key.path;
    }
  }
}

TEST(ConfigKeysTest, HelpListsEveryKeyWithItsDefault) {
  const std::string help = ConfigHelp("loyalty-test", kKeys);
  EXPECT_EQ(help.rfind("usage: loyalty-test", 0), 0u);
  for (const auto& key : kKeys) {
    EXPECT_NE(help.find("  " + key.path + " = "), std::string::npos) << key.path;
    EXPECT_NE(help.find(key.meaning), std::string::npos) << key.path;
  }
  EXPECT_NE(help.find("kafka.max_batch = 2000"), std::string::npos);
}

TEST(ConfigKeysTest, NearestKey) {
  EXPECT_EQ(NearestKey("grpc.adress", {"grpc.address", "metrics.address"}), "grpc.address");
  EXPECT_EQ(NearestKey("zzz", {"grpc.address"}), "");
}

// Each parser on an empty configuration gives its struct's defaults: the table is built from
// the struct, and the lists go through YAML and back.
TEST(ConfigKeysTest, AccrualParserReadsTheStructDefaults) {
  auto program = accrual::AccrualConfig::FromConfig(Config());
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  const accrual::AccrualConfig d;
  ASSERT_EQ(program->tiers.size(), d.tiers.size());
  for (size_t i = 0; i < d.tiers.size(); ++i) {
    EXPECT_EQ(program->tiers[i].name, d.tiers[i].name);
    EXPECT_EQ(program->tiers[i].earn_rate_bp, d.tiers[i].earn_rate_bp);
    EXPECT_EQ(program->tiers[i].qualify_spend_minor, d.tiers[i].qualify_spend_minor);
    EXPECT_EQ(program->tiers[i].qualify_purchases, d.tiers[i].qualify_purchases);
    EXPECT_EQ(program->tiers[i].benefits, d.tiers[i].benefits);
  }
  ASSERT_EQ(program->activities.size(), d.activities.size());
  for (size_t i = 0; i < d.activities.size(); ++i) {
    EXPECT_EQ(program->activities[i].type, d.activities[i].type);
    EXPECT_EQ(program->activities[i].points, d.activities[i].points);
    EXPECT_EQ(program->activities[i].daily_cap, d.activities[i].daily_cap);
    EXPECT_EQ(program->activities[i].once_per_object, d.activities[i].once_per_object);
  }
  EXPECT_EQ(program->purchase_milestones, d.purchase_milestones);
  EXPECT_EQ(program->points_milestones, d.points_milestones);
  EXPECT_EQ(program->milestone_bonus, d.milestone_bonus);
  EXPECT_TRUE(program->partners.empty());
  EXPECT_EQ(program->expiry, d.expiry);
  EXPECT_EQ(program->currency, d.currency);
  EXPECT_EQ(program->default_hold_ttl_seconds, d.default_hold_ttl_seconds);
  EXPECT_EQ(program->tier_grace_days, d.tier_grace_days);
}

TEST(ConfigKeysTest, AccrualRefusesAnUnknownFieldInAList) {
  auto config = Config::FromYamlText("program:\n  tiers:\n    - {name: A, earn_rate: 100}\n");
  ASSERT_TRUE(config.ok());
  auto program = accrual::AccrualConfig::FromConfig(*config);
  ASSERT_FALSE(program.ok());
  EXPECT_NE(program.status().message().find("program.tiers: unknown field 'earn_rate'"),
            std::string::npos)
      << program.status().message();
}

TEST(ConfigKeysTest, OtherParsersReadTheStructDefaults) {
  auto referral = referral::ReferralConfig::FromConfig(Config());
  ASSERT_TRUE(referral.ok()) << referral.status().ToString();
  const referral::ReferralConfig r;
  EXPECT_EQ(referral->referrer_bonus, r.referrer_bonus);
  EXPECT_EQ(referral->two_sided, r.two_sided);
  EXPECT_EQ(referral->referrer_cap, r.referrer_cap);
  EXPECT_EQ(referral->same_store, r.same_store);
  EXPECT_EQ(referral->self_referral, r.self_referral);

  auto redemption = redemption::RedemptionConfig::FromConfig(Config());
  ASSERT_TRUE(redemption.ok()) << redemption.status().ToString();
  const redemption::RedemptionConfig m;
  EXPECT_EQ(redemption->checkout_max_share_bp, m.checkout_max_share_bp);
  EXPECT_EQ(redemption->accrual_attempts, m.accrual_attempts);
  EXPECT_EQ(redemption->cached_finished, m.cached_finished);

  auto notification = notification::NotificationConfig::FromConfig(Config());
  ASSERT_TRUE(notification.ok()) << notification.status().ToString();
  const notification::NotificationConfig n;
  EXPECT_EQ(notification->max_attempts, n.max_attempts);
  EXPECT_EQ(notification->backoff.base_ms, n.backoff.base_ms);
  EXPECT_EQ(notification->breaker.open_ms, n.breaker.open_ms);
  EXPECT_EQ(notification->link_code_ttl_ms, n.link_code_ttl_ms);
  EXPECT_TRUE(notification->disabled_kinds.empty());
}

}  // namespace
}  // namespace loyalty
