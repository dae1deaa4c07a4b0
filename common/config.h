// Configuration: a YAML file, overridden by environment variables, overridden by flags.
// A key is a dotted path ("kafka.brokers"); its environment variable is LOYALTY_ and the
// path upper-cased with dots as underscores (LOYALTY_KAFKA_BROKERS); its flag is
// --kafka.brokers=VALUE. Everything has a default in code, so no file is needed to start.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace loyalty {

class Config {
 public:
  Config() = default;

  // Reads --config=FILE (or LOYALTY_CONFIG), then the other flags.
  static StatusOr<Config> FromArgs(int argc, char** argv);
  static StatusOr<Config> FromYamlText(const std::string& text);

  std::string GetString(const std::string& path, const std::string& fallback) const;
  int64_t GetInt(const std::string& path, int64_t fallback) const;
  bool GetBool(const std::string& path, bool fallback) const;
  // The YAML node at path (for lists such as tiers); undefined node if absent.
  YAML::Node GetNode(const std::string& path) const;
  // Overrides a key, like a flag.
  void Set(const std::string& path, const std::string& value) { overrides_[path] = value; }

  static std::string EnvName(const std::string& path);

 private:
  bool Lookup(const std::string& path, std::string* value) const;

  YAML::Node root_;
  std::map<std::string, std::string> overrides_;
};

}  // namespace loyalty
