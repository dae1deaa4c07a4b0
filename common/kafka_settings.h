// How the services and loyaltyctl reach a Kafka cluster, TLS and SASL included: the kafka.*
// client keys (every service has them, through ServiceRuntime::RuntimeKeys) and their
// translation into librdkafka properties (KafkaClientSettings, common/kafka.h), checked at
// start so that a mistyped protocol, a missing password or an unknown librdkafka property
// stops the service with the key named instead of failing later at the first connection.
#pragma once

#include <string_view>

#include "common/config.h"
#include "common/kafka.h"
#include "common/status.h"

namespace loyalty {

// kafka.brokers, kafka.security_protocol, kafka.sasl_*, kafka.ssl_*, kafka.client_properties
// and kafka.properties.<librdkafka name> (any property by its own name; those with a key above
// stand for that key). An empty value is "not set".
ConfigKeys KafkaClientKeys();

// The settings of config (declares KafkaClientKeys itself). InvalidArgument naming the key:
// a protocol or mechanism not in the list, SASL or TLS keys the protocol does not use, SASL
// without a user and password, a certificate without its key, and a client property that is
// malformed, set by a key of its own, one the platform's guarantees depend on, or refused by
// librdkafka (with librdkafka's message). The password appears in no message.
StatusOr<KafkaClientSettings> KafkaClientSettingsFrom(const Config& config);

// kafka.client_properties: "name=value,name=value". Spaces around names and values are
// trimmed; "\," is a comma inside a value ("debug=broker\,security") and "\\" a backslash. An
// empty text is no property. InvalidArgument for an entry without "=" or a name, a name given
// twice, or more than kMaxClientProperties entries.
inline constexpr size_t kMaxClientProperties = 64;
StatusOr<KafkaProperties> ParseClientProperties(std::string_view text);

}  // namespace loyalty
