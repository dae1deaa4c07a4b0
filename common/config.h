// Configuration: a YAML file, overridden by environment variables, overridden by flags.
// A key is a dotted path ("kafka.brokers"); its environment variable is LOYALTY_ and the
// path upper-cased with dots as underscores (LOYALTY_KAFKA_BROKERS); its flag is
// --kafka.brokers=VALUE. Everything has a default in code, so no file is needed to start.
//
// Every key is declared once, in a table of ConfigKey (path, default, meaning) next to the
// code that reads it; the getters take their default from that table and refuse to read an
// undeclared key, so the table cannot drift from the reads. The same table refuses unknown
// keys at start (FromArgs), prints --help (ConfigHelp) and the annotated default file
// (DefaultConfigYaml, deploy/config/<service>.yaml).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace loyalty {

struct ConfigKey {
  std::string path;           // "kafka.brokers"
  std::string default_value;  // the value as a getter returns it; YAML text for a node key
  std::string meaning;        // one line for --help and the annotated file
  bool node = false;          // a list or map read whole with GetNode (program.tiers)
  // A map whose entries the operator names (kafka.properties): `name: value` under the path
  // in the file, --path.NAME=VALUE, LOYALTY_<PATH>_<NAME> (NAME upper-cased, dots as
  // underscores); read with GetMap.
  bool open_map = false;
};
using ConfigKeys = std::vector<ConfigKey>;

ConfigKey StringKey(std::string path, std::string default_value, std::string meaning);
ConfigKey IntKey(std::string path, int64_t default_value, std::string meaning);
ConfigKey BoolKey(std::string path, bool default_value, std::string meaning);
// default_yaml: the default node as YAML text ("[]", "{purchases: [1, 10]}").
ConfigKey NodeKey(std::string path, std::string default_yaml, std::string meaning);

ConfigKey OpenMapKey(std::string path, std::string meaning);

// Appends b's keys to a (a key declared in both keeps a's entry).
ConfigKeys JoinKeys(ConfigKeys a, const ConfigKeys& b);

class Config {
 public:
  Config() = default;

  // Reads --config=FILE (or LOYALTY_CONFIG), then the other flags, and declares keys. Refuses
  // a flag, a LOYALTY_* environment variable or a key in the file that keys does not declare,
  // naming it and the nearest declared key. LOYALTY_ variables of the platform's other
  // programs (kSharedEnvironment) are let through, as one environment often serves them all.
  static StatusOr<Config> FromArgs(int argc, char** argv, const ConfigKeys& keys);
  // Parses YAML; nothing is declared yet (see Declare) and nothing is checked.
  static StatusOr<Config> FromYamlText(const std::string& text);

  // Declares keys (a path declared already keeps its first entry). The parsers of a module's
  // keys declare them themselves, so that they also work on a Config from FromYamlText.
  void Declare(const ConfigKeys& keys);
  // The file, flags and environment checked against the declared keys (what FromArgs does).
  Status CheckKnownKeys() const;

  // The value of a declared key, or its declared default. Throw std::logic_error for an
  // undeclared key (a programming error) and std::invalid_argument for a bad value.
  std::string GetString(const std::string& path) const;
  int64_t GetInt(const std::string& path) const;
  bool GetBool(const std::string& path) const;
  // A declared node key (lists such as tiers): the file's node, or the parsed default.
  YAML::Node GetNode(const std::string& path) const;
  // A declared open map key's entries, name -> value: the file's, then the environment's
  // (LOYALTY_KAFKA_PROPERTIES_REQUEST_TIMEOUT_MS is request.timeout.ms), then the flags'.
  // std::invalid_argument for an entry in the file that is not a single value.
  std::map<std::string, std::string> GetMap(const std::string& path) const;
  // Overrides a key, like a flag.
  void Set(const std::string& path, const std::string& value) { overrides_[path] = value; }

  static std::string EnvName(const std::string& path);

 private:
  const ConfigKey& Declared(const std::string& path) const;
  // The declared open map key that path ("kafka.properties.x") is an entry of, or nullptr.
  const ConfigKey* OpenMapOf(const std::string& path) const;
  bool Lookup(const std::string& path, std::string* value) const;
  YAML::Node FileNode(const std::string& path) const;

  YAML::Node root_;
  std::map<std::string, std::string> overrides_;
  std::map<std::string, ConfigKey> keys_;
};

// LOYALTY_ variables that are not configuration keys of every service but are meant for the
// whole platform or its tools: LOYALTY_CONFIG, the peers' addresses, loyaltyctl's and the
// test harness's variables.
extern const std::set<std::string> kSharedEnvironment;

// Usage of a service binary and the table of its keys: path, default, meaning.
std::string ConfigHelp(const std::string& program, const ConfigKeys& keys);
// The annotated YAML file of every key at its default, nested by path, each with its meaning
// as a comment; title heads the file. It loads back to the same defaults.
std::string DefaultConfigYaml(const std::string& title, const ConfigKeys& keys);

// The declared path nearest to unknown (edit distance), or "" if none is near.
std::string NearestKey(const std::string& unknown, const std::vector<std::string>& known);

}  // namespace loyalty
