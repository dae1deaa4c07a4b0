// The kafka.* client keys as librdkafka properties: what each protocol needs and refuses,
// and the escape hatch kafka.client_properties, checked by librdkafka at start.
#include "common/kafka_settings.h"

#include <gtest/gtest.h>

#include <string>

namespace loyalty {
namespace {

StatusOr<KafkaClientSettings> From(const std::string& yaml) {
  auto config = Config::FromYamlText(yaml);
  if (!config.ok()) return config.status();
  return KafkaClientSettingsFrom(*config);
}

// The message of a refusal; "" if the settings were accepted.
std::string Refusal(const std::string& yaml) {
  auto settings = From(yaml);
  return settings.ok() ? "" : settings.status().message();
}

TEST(KafkaSettingsTest, DefaultsArePlaintextToTheDefaultBrokers) {
  auto settings = From("");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->brokers, "127.0.0.1:9092");
  EXPECT_EQ(settings->properties, (KafkaProperties{{"security.protocol", "PLAINTEXT"}}));
}

TEST(KafkaSettingsTest, SaslSslWithPlainBecomesLibrdkafkaProperties) {
  auto settings = From(
      "kafka:\n"
      "  brokers: kafka-1:9093,kafka-2:9093\n"
      "  security_protocol: sasl_ssl\n"
      "  sasl_mechanism: SCRAM-SHA-512\n"
      "  sasl_username: accrual\n"
      "  sasl_password: s3cret\n"
      "  ssl_ca_location: /etc/loyalty/kafka-ca.pem\n");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->brokers, "kafka-1:9093,kafka-2:9093");
  EXPECT_EQ(settings->properties, (KafkaProperties{
                                      {"security.protocol", "SASL_SSL"},
                                      {"sasl.mechanism", "SCRAM-SHA-512"},
                                      {"sasl.username", "accrual"},
                                      {"sasl.password", "s3cret"},
                                      {"ssl.ca.location", "/etc/loyalty/kafka-ca.pem"},
                                  }));
}

TEST(KafkaSettingsTest, TheProtocolAndMechanismAreReadInEitherCase) {
  auto settings = From(
      "kafka: {security_protocol: SASL_PLAINTEXT, sasl_mechanism: plain, sasl_username: u, "
      "sasl_password: p}");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->properties.at("security.protocol"), "SASL_PLAINTEXT");
  EXPECT_EQ(settings->properties.at("sasl.mechanism"), "PLAIN");
}

TEST(KafkaSettingsTest, MutualTlsTakesTheCertificateAndItsKey) {
  auto settings = From(
      "kafka: {security_protocol: ssl, ssl_ca_location: /ca.pem, ssl_certificate_location: "
      "/client.pem, ssl_key_location: /client.key, ssl_key_password: k}");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->properties.at("ssl.certificate.location"), "/client.pem");
  EXPECT_EQ(settings->properties.at("ssl.key.location"), "/client.key");
  EXPECT_EQ(settings->properties.at("ssl.key.password"), "k");
  EXPECT_EQ(settings->properties.count("sasl.mechanism"), 0u);
}

TEST(KafkaSettingsTest, AnUnknownProtocolIsRefusedWithTheKeyNamed) {
  std::string refusal = Refusal("kafka: {security_protocol: tls}");
  EXPECT_NE(refusal.find("kafka.security_protocol"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("'tls'"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("plaintext, ssl, sasl_plaintext, sasl_ssl"), std::string::npos);
}

TEST(KafkaSettingsTest, SaslNeedsASupportedMechanismAUserAndAPassword) {
  const std::string base = "kafka: {security_protocol: sasl_ssl, ";
  EXPECT_NE(Refusal(base + "sasl_username: u, sasl_password: p}").find("kafka.sasl_mechanism"),
            std::string::npos);
  EXPECT_NE(Refusal(base + "sasl_mechanism: GSSAPI, sasl_username: u, sasl_password: p}")
                .find("kafka.sasl_mechanism: 'GSSAPI' is not supported"),
            std::string::npos);
  EXPECT_NE(Refusal(base + "sasl_mechanism: PLAIN, sasl_password: p}").find("kafka.sasl_username"),
            std::string::npos);
  std::string no_password = Refusal(base + "sasl_mechanism: PLAIN, sasl_username: u}");
  EXPECT_NE(no_password.find("kafka.sasl_password"), std::string::npos) << no_password;
  EXPECT_NE(no_password.find("LOYALTY_KAFKA_SASL_PASSWORD"), std::string::npos) << no_password;
}

TEST(KafkaSettingsTest, KeysTheProtocolDoesNotUseAreRefusedNotIgnored) {
  std::string sasl_on_ssl = Refusal("kafka: {security_protocol: ssl, sasl_password: p}");
  EXPECT_NE(sasl_on_ssl.find("kafka.sasl_password: set, but kafka.security_protocol is ssl"),
            std::string::npos)
      << sasl_on_ssl;
  EXPECT_EQ(sasl_on_ssl.find(": p"), std::string::npos) << "the password is in: " << sasl_on_ssl;
  EXPECT_NE(Refusal("kafka: {ssl_ca_location: /ca.pem}").find("kafka.ssl_ca_location"),
            std::string::npos);
  EXPECT_NE(Refusal("kafka: {security_protocol: sasl_plaintext, sasl_mechanism: PLAIN, "
                    "sasl_username: u, sasl_password: p, ssl_ca_location: /ca.pem}")
                .find("kafka.ssl_ca_location"),
            std::string::npos);
}

TEST(KafkaSettingsTest, AClientCertificateNeedsItsKey) {
  EXPECT_NE(Refusal("kafka: {security_protocol: ssl, ssl_certificate_location: /c.pem}")
                .find("kafka.ssl_key_location: not set"),
            std::string::npos);
  EXPECT_NE(Refusal("kafka: {security_protocol: ssl, ssl_key_location: /c.key}")
                .find("kafka.ssl_certificate_location: not set"),
            std::string::npos);
  EXPECT_NE(Refusal("kafka: {security_protocol: ssl, ssl_key_password: k}")
                .find("kafka.ssl_key_password"),
            std::string::npos);
}

TEST(KafkaSettingsTest, ClientPropertiesAreAddedAfterTheSecurityKeys) {
  auto settings = From(
      "kafka:\n"
      "  client_properties: ' request.timeout.ms = 60000 ,debug=broker\\,security,"
      "client.id=a\\\\b'\n");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->properties.at("request.timeout.ms"), "60000");
  EXPECT_EQ(settings->properties.at("debug"), "broker,security");
  EXPECT_EQ(settings->properties.at("client.id"), "a\\b");
}

TEST(KafkaSettingsTest, AnUnknownClientPropertyIsRefusedWithLibrdkafkasMessage) {
  std::string refusal =
      Refusal("kafka: {client_properties: 'request.timeout.ms=1,no.such.prop=1'}");
  EXPECT_NE(refusal.find("kafka.client_properties: "), std::string::npos) << refusal;
  // librdkafka's own words.
  EXPECT_NE(refusal.find("No such configuration property: \"no.such.prop\""), std::string::npos)
      << refusal;
  std::string bad_value = Refusal("kafka: {client_properties: 'request.timeout.ms=soon'}");
  EXPECT_NE(bad_value.find("kafka.client_properties: "), std::string::npos) << bad_value;
  EXPECT_NE(bad_value.find("request.timeout.ms"), std::string::npos) << bad_value;
}

TEST(KafkaSettingsTest, MalformedClientPropertiesAreRefused) {
  for (const char* text : {"request.timeout.ms", "a=1,,b=2", "=5", "a=1,a=2"}) {
    auto parsed = ParseClientProperties(text);
    EXPECT_FALSE(parsed.ok()) << text;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.status().message().find("kafka.client_properties"), std::string::npos);
    }
  }
  EXPECT_NE(
      Refusal("kafka: {client_properties: 'linger.ms'}").find("'linger.ms' is not name=value"),
      std::string::npos);
  std::string many;
  for (size_t i = 0; i <= kMaxClientProperties; ++i) many += "p" + std::to_string(i) + "=1,";
  many.pop_back();
  EXPECT_FALSE(ParseClientProperties(many).ok());
  auto none = ParseClientProperties("  ");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(KafkaSettingsTest, ClientPropertiesCannotSetWhatAKeyOrTheGuaranteesOwn) {
  EXPECT_NE(Refusal("kafka: {client_properties: 'sasl.password=x'}")
                .find("sasl.password is set by kafka.sasl_password"),
            std::string::npos);
  EXPECT_NE(Refusal("kafka: {client_properties: 'bootstrap.servers=x:1'}").find("kafka.brokers"),
            std::string::npos);
  for (const char* guarantee : {"acks=1", "enable.idempotence=false", "enable.auto.commit=true",
                                "auto.offset.reset=earliest"}) {
    std::string refusal = Refusal(std::string("kafka: {client_properties: '") + guarantee + "'}");
    EXPECT_NE(refusal.find("delivery guarantees"), std::string::npos)
        << guarantee << ": " << refusal;
  }
}

TEST(KafkaSettingsTest, PropertiesByNameReachEveryLibrdkafkaSetting) {
  // Security properties by their librdkafka names stand for the keys, and are checked as them.
  auto settings = From(
      "kafka:\n"
      "  brokers: kafka-1:9093\n"
      "  properties:\n"
      "    security.protocol: SASL_SSL\n"
      "    sasl.mechanism: SCRAM-SHA-256\n"
      "    sasl.username: accrual\n"
      "    sasl.password: s3cret\n"
      "    ssl.ca.location: /etc/loyalty/kafka-ca.pem\n"
      "    request.timeout.ms: 60000\n");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->properties, (KafkaProperties{
                                      {"security.protocol", "SASL_SSL"},
                                      {"sasl.mechanism", "SCRAM-SHA-256"},
                                      {"sasl.username", "accrual"},
                                      {"sasl.password", "s3cret"},
                                      {"ssl.ca.location", "/etc/loyalty/kafka-ca.pem"},
                                      {"request.timeout.ms", "60000"},
                                  }));
  // The same checks as the keys: SASL without a password names the key to set.
  EXPECT_EQ(Refusal("kafka: {properties: {security.protocol: sasl_plaintext, sasl.mechanism: "
                    "PLAIN, sasl.username: u}}")
                .rfind("kafka.sasl_password: not set", 0),
            0u);
  // Both spellings with different values, a guarantee, a name twice, an unknown name.
  EXPECT_EQ(Refusal("kafka: {security_protocol: ssl, properties: {security.protocol: "
                    "sasl_ssl}}"),
            "kafka.properties.security.protocol: set, and kafka.security_protocol says "
            "otherwise; set one of them");
  EXPECT_TRUE(
      Refusal("kafka: {security_protocol: ssl, properties: {security.protocol: SSL}}").empty());
  EXPECT_EQ(Refusal("kafka: {properties: {enable.idempotence: 'false'}}")
                .rfind("kafka.properties.enable.idempotence: enable.idempotence is set by the "
                       "code's value",
                       0),
            0u);
  EXPECT_EQ(Refusal("kafka: {client_properties: linger.ms=5, properties: {linger.ms: 7}}"),
            "kafka.properties.linger.ms: also in kafka.client_properties; set it once");
  EXPECT_EQ(Refusal("kafka: {properties: {no.such.prop: 1}}")
                .rfind("kafka.properties.no.such.prop: No such configuration property", 0),
            0u)
      << Refusal("kafka: {properties: {no.such.prop: 1}}");
}

TEST(KafkaSettingsTest, EmptyBrokersAreRefused) {
  EXPECT_NE(Refusal("kafka: {brokers: ''}").find("kafka.brokers: not set"), std::string::npos);
}

}  // namespace
}  // namespace loyalty
