#include "common/kafka_settings.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace loyalty {
namespace {

constexpr char kProtocolKey[] = "kafka.security_protocol";
constexpr char kPropertiesKey[] = "kafka.client_properties";
constexpr char kPropertyMapKey[] = "kafka.properties";

// The keys whose value goes to one librdkafka property as it is.
struct PassThrough {
  const char* key;
  const char* property;
};
constexpr PassThrough kSaslKeys[] = {
    {"kafka.sasl_username", "sasl.username"},
    {"kafka.sasl_password", "sasl.password"},
};
constexpr PassThrough kTlsKeys[] = {
    {"kafka.ssl_ca_location", "ssl.ca.location"},
    {"kafka.ssl_certificate_location", "ssl.certificate.location"},
    {"kafka.ssl_key_location", "ssl.key.location"},
    {"kafka.ssl_key_password", "ssl.key.password"},
};

// Properties kafka.client_properties may not set, and why: a key of their own sets them (one
// place to look), or the platform's guarantees depend on the value the code sets
// (docs/decisions.md, "Kafka client properties").
const std::map<std::string, std::string>& ReservedProperties() {
  static const std::map<std::string, std::string> reserved = [] {
    std::map<std::string, std::string> r = {
        {"bootstrap.servers", "kafka.brokers"},      {"metadata.broker.list", "kafka.brokers"},
        {"security.protocol", kProtocolKey},         {"sasl.mechanism", "kafka.sasl_mechanism"},
        {"sasl.mechanisms", "kafka.sasl_mechanism"}, {"group.id", "the service's kafka.group_id"},
    };
    for (const auto& key : kSaslKeys) r[key.property] = key.key;
    for (const auto& key : kTlsKeys) r[key.property] = key.key;
    const std::string guarantee = "the code's value, which the delivery guarantees depend on";
    for (const char* name : {"enable.idempotence", "acks", "request.required.acks", "partitioner",
                             "enable.auto.commit", "enable.auto.offset.store", "auto.offset.reset",
                             "enable.partition.eof"}) {
      r[name] = guarantee;
    }
    return r;
  }();
  return reserved;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  size_t end = s.find_last_not_of(" \t");
  return std::string(s.substr(begin, end - begin + 1));
}

// A value for a message: at most 64 characters of what the operator wrote.
std::string Quote(const std::string& value) { return "'" + value.substr(0, 64) + "'"; }

// kafka.sasl_mechanism and the username and password, for a sasl_* protocol.
Status AddSasl(const Config& config, const std::string& protocol, KafkaProperties* out) {
  const std::string given = config.GetString("kafka.sasl_mechanism");
  const std::string mechanism = Upper(given);
  if (mechanism != "PLAIN" && mechanism != "SCRAM-SHA-256" && mechanism != "SCRAM-SHA-512") {
    return InvalidArgument("kafka.sasl_mechanism: " +
                           (given.empty() ? "not set" : Quote(given) + " is not supported") +
                           "; kafka.security_protocol " + protocol +
                           " needs one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512");
  }
  (*out)["sasl.mechanism"] = mechanism;
  for (const auto& key : kSaslKeys) {
    const std::string value = config.GetString(key.key);
    if (value.empty()) {
      return InvalidArgument(std::string(key.key) + ": not set; kafka.security_protocol " +
                             protocol + " needs it (the password best as " +
                             Config::EnvName("kafka.sasl_password") + ")");
    }
    (*out)[key.property] = value;
  }
  return Status::Ok();
}

// The kafka.ssl_* keys, for ssl or sasl_ssl. A client certificate (mTLS) needs its key.
Status AddTls(const Config& config, KafkaProperties* out) {
  for (const auto& key : kTlsKeys) {
    if (std::string value = config.GetString(key.key); !value.empty()) (*out)[key.property] = value;
  }
  const bool certificate = out->count("ssl.certificate.location") > 0;
  const bool key = out->count("ssl.key.location") > 0;
  if (certificate != key) {
    return InvalidArgument(
        std::string(certificate ? "kafka.ssl_key_location" : "kafka.ssl_certificate_location") +
        ": not set; a client certificate needs both kafka.ssl_certificate_location and "
        "kafka.ssl_key_location");
  }
  if (out->count("ssl.key.password") > 0 && !key) {
    return InvalidArgument("kafka.ssl_key_password: set without kafka.ssl_key_location");
  }
  return Status::Ok();
}

// Keys of a layer the protocol does not use: set by mistake (or the protocol is wrong), so
// refused rather than silently ignored.
Status RefuseUnused(const Config& config, const std::string& protocol, bool sasl, bool tls) {
  std::vector<std::pair<std::string, const char*>> unused;  // key, the protocols it needs
  if (!sasl) {
    unused.emplace_back("kafka.sasl_mechanism", "sasl_plaintext or sasl_ssl");
    for (const auto& key : kSaslKeys) unused.emplace_back(key.key, "sasl_plaintext or sasl_ssl");
  }
  if (!tls) {
    for (const auto& key : kTlsKeys) unused.emplace_back(key.key, "ssl or sasl_ssl");
  }
  for (const auto& [key, needs] : unused) {
    if (!config.GetString(key).empty()) {
      return InvalidArgument(key + ": set, but kafka.security_protocol is " + protocol +
                             "; it applies to " + needs + " (or leave it empty)");
    }
  }
  return Status::Ok();
}

// The key of its own a librdkafka property has (kafka.properties.security.protocol is
// kafka.security_protocol), or "" if none.
std::string DedicatedKey(const std::string& property) {
  if (property == "bootstrap.servers" || property == "metadata.broker.list") return "kafka.brokers";
  if (property == "security.protocol") return kProtocolKey;
  if (property == "sasl.mechanism" || property == "sasl.mechanisms") return "kafka.sasl_mechanism";
  for (const auto& key : kSaslKeys) {
    if (property == key.property) return key.key;
  }
  for (const auto& key : kTlsKeys) {
    if (property == key.property) return key.key;
  }
  return "";
}

// kafka.properties.<name>: a property with a key of its own sets that key (so that it is
// checked as the key is: refusing both spellings with different values); the others join
// kafka.client_properties' (extra), which must not name them too.
Status ApplyPropertyMap(Config& config, KafkaProperties& extra, std::set<std::string>& from_map) {
  const ConfigKeys declared = KafkaClientKeys();
  for (const auto& [name, value] : config.GetMap(kPropertyMapKey)) {
    const std::string spelled = std::string(kPropertyMapKey) + "." + name;
    if (const std::string key = DedicatedKey(name); !key.empty()) {
      const std::string current = config.GetString(key);
      const auto it = std::find_if(declared.begin(), declared.end(),
                                   [&](const ConfigKey& k) { return k.path == key; });
      const bool key_set = it != declared.end() && current != it->default_value;
      const bool names_a_choice = key == kProtocolKey || key == "kafka.sasl_mechanism";
      const bool same = names_a_choice ? Lower(current) == Lower(value) : current == value;
      if (key_set && !same) {
        return InvalidArgument(spelled + ": set, and " + key + " says otherwise; set one of them");
      }
      config.Set(key, value);
      continue;
    }
    if (auto it = ReservedProperties().find(name); it != ReservedProperties().end()) {
      return InvalidArgument(spelled + ": " + name + " is set by " + it->second + ", not here");
    }
    if (!extra.emplace(name, value).second) {
      return InvalidArgument(spelled + ": also in " + kPropertiesKey + "; set it once");
    }
    from_map.insert(name);
  }
  return Status::Ok();
}

// Every property set on a librdkafka configuration, as the clients will: librdkafka refuses
// an unknown name or a bad value here, at start, with its own message.
Status CheckWithLibrdkafka(const KafkaProperties& properties, const KafkaProperties& operator_set,
                           const std::set<std::string>& from_map) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [name, value] : properties) {
    std::string error;
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) {
      const auto reserved = ReservedProperties().find(name);
      const std::string key = from_map.count(name) > 0 ? std::string(kPropertyMapKey) + "." + name
                              : operator_set.count(name) > 0           ? kPropertiesKey
                              : reserved != ReservedProperties().end() ? reserved->second
                                                                       : name;
      return InvalidArgument(key + ": " + error);
    }
  }
  return Status::Ok();
}

}  // namespace

ConfigKeys KafkaClientKeys() {
  return {
      StringKey("kafka.brokers", "127.0.0.1:9092", "Kafka bootstrap servers (host:port,...)"),
      StringKey(kProtocolKey, "plaintext",
                "plaintext | ssl | sasl_plaintext | sasl_ssl (docs/operations.md, Kafka "
                "security)"),
      StringKey("kafka.sasl_mechanism", "",
                "PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512; for the sasl_* protocols"),
      StringKey("kafka.sasl_username", "", "SASL user; for the sasl_* protocols"),
      StringKey("kafka.sasl_password", "",
                "SASL password: give it as LOYALTY_KAFKA_SASL_PASSWORD, not in this file; "
                "never logged"),
      StringKey("kafka.ssl_ca_location", "",
                "PEM file of the CA(s) that signed the brokers' certificates (empty: the "
                "system's CAs); for ssl and sasl_ssl"),
      StringKey("kafka.ssl_certificate_location", "",
                "PEM client certificate for mTLS (with kafka.ssl_key_location)"),
      StringKey("kafka.ssl_key_location", "", "PEM private key of the client certificate"),
      StringKey("kafka.ssl_key_password", "",
                "password of the private key, if encrypted: as LOYALTY_KAFKA_SSL_KEY_PASSWORD"),
      StringKey(kPropertiesKey, "",
                "further librdkafka properties for every client, name=value,name=value "
                "(e.g. request.timeout.ms=60000); checked by librdkafka at start"),
      OpenMapKey(kPropertyMapKey,
                 "librdkafka properties by name (request.timeout.ms: 60000, or "
                 "--kafka.properties.request.timeout.ms=60000); security.protocol, sasl.* "
                 "and ssl.* stand for the kafka.* keys above"),
  };
}

StatusOr<KafkaProperties> ParseClientProperties(std::string_view text) {
  std::vector<std::string> entries(1);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == ',' || text[i + 1] == '\\')) {
      entries.back().push_back(text[++i]);
    } else if (text[i] == ',') {
      entries.emplace_back();
    } else {
      entries.back().push_back(text[i]);
    }
  }
  KafkaProperties out;
  if (entries.size() == 1 && Trim(entries[0]).empty()) return out;
  if (entries.size() > kMaxClientProperties) {
    return InvalidArgument(std::string(kPropertiesKey) + ": more than " +
                           std::to_string(kMaxClientProperties) + " properties");
  }
  for (const auto& entry : entries) {
    const size_t eq = entry.find('=');
    const std::string name = Trim(std::string_view(entry).substr(0, eq));
    if (eq == std::string::npos || name.empty()) {
      return InvalidArgument(std::string(kPropertiesKey) + ": " + Quote(Trim(entry)) +
                             " is not name=value (a comma inside a value is written \\,)");
    }
    if (!out.emplace(name, Trim(std::string_view(entry).substr(eq + 1))).second) {
      return InvalidArgument(std::string(kPropertiesKey) + ": " + name + " given twice");
    }
  }
  return out;
}

StatusOr<KafkaClientSettings> KafkaClientSettingsFrom(const Config& in) {
  Config config = in;
  config.Declare(KafkaClientKeys());
  KafkaClientSettings settings;
  try {
    auto extra = ParseClientProperties(config.GetString(kPropertiesKey));
    if (!extra.ok()) return extra.status();
    std::set<std::string> from_map;
    if (Status s = ApplyPropertyMap(config, *extra, from_map); !s.ok()) return s;
    settings.brokers = config.GetString("kafka.brokers");
    if (settings.brokers.empty()) return InvalidArgument("kafka.brokers: not set");
    const std::string given = config.GetString(kProtocolKey);
    const std::string protocol = Lower(given);
    if (protocol != "plaintext" && protocol != "ssl" && protocol != "sasl_plaintext" &&
        protocol != "sasl_ssl") {
      return InvalidArgument(std::string(kProtocolKey) + ": " + Quote(given) +
                             " is not one of plaintext, ssl, sasl_plaintext, sasl_ssl");
    }
    const bool sasl = protocol.rfind("sasl_", 0) == 0;
    const bool tls = protocol == "ssl" || protocol == "sasl_ssl";
    if (Status s = RefuseUnused(config, protocol, sasl, tls); !s.ok()) return s;
    settings.properties["security.protocol"] = Upper(protocol);
    if (sasl) {
      if (Status s = AddSasl(config, protocol, &settings.properties); !s.ok()) return s;
    }
    if (tls) {
      if (Status s = AddTls(config, &settings.properties); !s.ok()) return s;
    }
    for (const auto& [name, value] : *extra) {
      if (auto it = ReservedProperties().find(name); it != ReservedProperties().end()) {
        return InvalidArgument(std::string(kPropertiesKey) + ": " + name + " is set by " +
                               it->second + ", not here");
      }
      settings.properties[name] = value;
    }
    KafkaProperties all = settings.properties;
    all["bootstrap.servers"] = settings.brokers;
    if (Status s = CheckWithLibrdkafka(all, *extra, from_map); !s.ok()) return s;
  } catch (const std::invalid_argument& e) {
    return InvalidArgument(e.what());
  }
  return settings;
}

}  // namespace loyalty
