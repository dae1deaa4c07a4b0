#include "common/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>

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

TEST(ConfigTest, AnOpenMapTakesNamedEntriesFromTheFileTheEnvironmentAndFlags) {
  ConfigKeys keys = kKeys;
  keys.push_back(OpenMapKey("kafka.properties", "librdkafka properties"));
  setenv("LOYALTY_KAFKA_PROPERTIES_SOCKET_KEEPALIVE_ENABLE", "true", 1);
  setenv("LOYALTY_KAFKA_PROPERTIES_REQUEST_TIMEOUT_MS", "45000", 1);
  const char* argv[] = {"prog", "--kafka.properties.request.timeout.ms=60000",
                        "--kafka.properties.debug=broker"};
  auto config = Config::FromArgs(3, const_cast<char**>(argv), keys);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto file = Config::FromYamlText(
      "kafka:\n  properties:\n    linger.ms: 5\n    request.timeout.ms: 30000\n");
  ASSERT_TRUE(file.ok());
  file->Declare(keys);
  ASSERT_TRUE(file->CheckKnownKeys().ok());
  EXPECT_EQ(file->GetMap("kafka.properties"),
            (std::map<std::string, std::string>{{"linger.ms", "5"},
                                                {"request.timeout.ms", "45000"},  // env wins
                                                {"socket.keepalive.enable", "true"}}));
  EXPECT_EQ(config->GetMap("kafka.properties"),
            (std::map<std::string, std::string>{{"debug", "broker"},
                                                {"request.timeout.ms", "60000"},  // flag wins
                                                {"socket.keepalive.enable", "true"}}));
  unsetenv("LOYALTY_KAFKA_PROPERTIES_SOCKET_KEEPALIVE_ENABLE");
  unsetenv("LOYALTY_KAFKA_PROPERTIES_REQUEST_TIMEOUT_MS");

  // Entries must be single values; the map itself is not a flag; other keys stay refused.
  auto nested = Config::FromYamlText("kafka:\n  properties:\n    request: {timeout.ms: 1}\n");
  ASSERT_TRUE(nested.ok());
  nested->Declare(keys);
  EXPECT_EQ(nested->CheckKnownKeys().message().rfind("config kafka.properties.request:", 0), 0u)
      << nested->CheckKnownKeys().message();
  const char* whole[] = {"prog", "--kafka.properties=x"};
  EXPECT_FALSE(Config::FromArgs(2, const_cast<char**>(whole), keys).ok());
  const char* near[] = {"prog", "--kafka.propertie.x=1"};
  EXPECT_FALSE(Config::FromArgs(2, const_cast<char**>(near), keys).ok());
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
