#include "common/config.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace loyalty {
namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  return parts;
}

[[noreturn]] void BadValue(const std::string& path, const std::string& value, const char* want) {
  throw std::invalid_argument("config " + path + ": '" + value + "' is not " + want);
}

}  // namespace

std::string Config::EnvName(const std::string& path) {
  std::string name = "LOYALTY_";
  for (char c : path) name.push_back(c == '.' || c == '-' ? '_' : std::toupper(c));
  return name;
}

StatusOr<Config> Config::FromYamlText(const std::string& text) {
  Config config;
  try {
    config.root_ = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("config: ") + e.what());
  }
  return config;
}

StatusOr<Config> Config::FromArgs(int argc, char** argv) {
  std::string file;
  if (const char* env = std::getenv("LOYALTY_CONFIG")) file = env;
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) return InvalidArgument("unexpected argument '" + arg + "'");
    arg = arg.substr(2);
    std::string key = arg, value = "true";
    if (auto eq = arg.find('='); eq != std::string::npos) {
      key = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      value = argv[++i];
    }
    if (key == "config") {
      file = value;
    } else {
      flags[key] = value;
    }
  }
  Config config;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return InvalidArgument("config: cannot read " + file);
    std::stringstream text;
    text << in.rdbuf();
    auto loaded = FromYamlText(text.str());
    if (!loaded.ok()) return loaded.status();
    config = std::move(*loaded);
  }
  config.overrides_ = std::move(flags);
  return config;
}

YAML::Node Config::GetNode(const std::string& path) const {
  YAML::Node node = YAML::Clone(root_);
  for (const auto& part : SplitPath(path)) {
    if (!node || !node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    node = node[part];
  }
  return node;
}

bool Config::Lookup(const std::string& path, std::string* value) const {
  if (auto it = overrides_.find(path); it != overrides_.end()) {
    *value = it->second;
    return true;
  }
  if (const char* env = std::getenv(EnvName(path).c_str())) {
    *value = env;
    return true;
  }
  YAML::Node node = GetNode(path);
  if (node && node.IsScalar()) {
    *value = node.Scalar();
    return true;
  }
  return false;
}

std::string Config::GetString(const std::string& path, const std::string& fallback) const {
  std::string value;
  return Lookup(path, &value) ? value : fallback;
}

int64_t Config::GetInt(const std::string& path, int64_t fallback) const {
  std::string value;
  if (!Lookup(path, &value)) return fallback;
  char* end = nullptr;
  long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0') BadValue(path, value, "an integer");
  return v;
}

bool Config::GetBool(const std::string& path, bool fallback) const {
  std::string value;
  if (!Lookup(path, &value)) return fallback;
  if (value == "true" || value == "1" || value == "yes") return true;
  if (value == "false" || value == "0" || value == "no") return false;
  BadValue(path, value, "a boolean");
}

}  // namespace loyalty
