#include "common/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace loyalty {
namespace {

const ConfigKeys kKeys = {
    StringKey("kafka.brokers", "default:9092", "brokers"),
    StringKey("grpc.address", "0.0.0.0:1", "grpc"),
    StringKey("missing.key", "fallback", "a key no source sets"),
    BoolKey("store.sync", true, "sync"),
    IntKey("kafka.max_batch", 1, "batch"),
    BoolKey("verbose", false, "verbose"),
};

TEST(ConfigTest, FileThenEnvironmentThenFlags) {
  auto config = Config::FromYamlText("kafka:\n  brokers: file:9092\ngrpc:\n  address: a:1\n");
  ASSERT_TRUE(config.ok());
  config->Declare(kKeys);
  EXPECT_EQ(config->GetString("kafka.brokers"), "file:9092");
  setenv("LOYALTY_KAFKA_BROKERS", "env:9092", 1);
  EXPECT_EQ(config->GetString("kafka.brokers"), "env:9092");
  config->Set("kafka.brokers", "flag:9092");
  EXPECT_EQ(config->GetString("kafka.brokers"), "flag:9092");
  unsetenv("LOYALTY_KAFKA_BROKERS");
  EXPECT_EQ(config->GetString("missing.key"), "fallback");
}

TEST(ConfigTest, ParsesFlagsAndTypes) {
  const char* argv[] = {"prog", "--store.sync=false", "--kafka.max_batch", "500", "--verbose"};
  auto config = Config::FromArgs(5, const_cast<char**>(argv), kKeys);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_FALSE(config->GetBool("store.sync"));
  EXPECT_EQ(config->GetInt("kafka.max_batch"), 500);
  EXPECT_TRUE(config->GetBool("verbose"));
}

TEST(ConfigTest, RejectsNonNumbersWithTheKeyNamed) {
  auto config = Config::FromYamlText("kafka:\n  max_batch: lots\n");
  ASSERT_TRUE(config.ok());
  config->Declare(kKeys);
  try {
    config->GetInt("kafka.max_batch");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("kafka.max_batch"), std::string::npos);
  }
}

TEST(ConfigTest, ReportsBadYaml) { EXPECT_FALSE(Config::FromYamlText("a: [1, 2").ok()); }

TEST(ConfigTest, EnvironmentNames) {
  EXPECT_EQ(Config::EnvName("kafka.brokers"), "LOYALTY_KAFKA_BROKERS");
  EXPECT_EQ(Config::EnvName("holds.default_ttl_seconds"), "LOYALTY_HOLDS_DEFAULT_TTL_SECONDS");
}

}  // namespace
}  // namespace loyalty
