#include "common/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

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
  throw std::invalid_argument("config " + path + ": '" + value.substr(0, 64) + "' is not " + want);
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

Status Unknown(const std::string& what, const std::string& name,
               const std::vector<std::string>& known) {
  std::string message = "unknown configuration " + what + " '" + name.substr(0, 100) + "'";
  if (std::string nearest = NearestKey(name, known); !nearest.empty()) {
    message += " (did you mean '" + nearest + "'?)";
  }
  return InvalidArgument(message + "; --help lists every key");
}

// A scalar as YAML writes it: quoted only where plain text would not load back the same.
std::string YamlScalar(const std::string& value) {
  YAML::Emitter out;
  out << value;
  return out.c_str();
}

std::string FlowYaml(const YAML::Node& node) {
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

}  // namespace

const std::set<std::string> kSharedEnvironment = {
    "LOYALTY_CONFIG",
    "LOYALTY_ACCRUAL_ADDRESS",
    "LOYALTY_REDEMPTION_ADDRESS",
    "LOYALTY_ACCRUAL_ADDR",
    "LOYALTY_REFERRAL_ADDR",
    "LOYALTY_BIN_DIR",
    "LOYALTY_SOURCE_DIR",
    "LOYALTY_KEEP_TEST_DIRS",
    "LOYALTY_START_TIMEOUT",
    "LOYALTY_TEST_LABELS",
    "LOYALTY_SKIP",
    // scripts/sanitize.sh's, and loyaltyctl's TLS settings (an operator's shell often holds
    // them while it also starts services).
    "LOYALTY_BUILD_JOBS",
    "LOYALTY_TSAN_INTEGRATION",
    "LOYALTY_CTL_TLS_CERT",
    "LOYALTY_CTL_TLS_KEY",
    "LOYALTY_CTL_TLS_CA",
    "LOYALTY_CTL_INSECURE",
    "LOYALTY_CTL_API_KEY",
    // scripts/kafka.sh's: the test cluster's state, cache, ports, partitions and heap, set in
    // the environment the realkafka tests (and the services they start) run in.
    "LOYALTY_KAFKA_DIR",
    "LOYALTY_KAFKA_CACHE",
    "LOYALTY_KAFKA_PORT",
    "LOYALTY_KAFKA_PARTITIONS",
    "LOYALTY_KAFKA_HEAP",
};

ConfigKey StringKey(std::string path, std::string default_value, std::string meaning) {
  return {std::move(path), std::move(default_value), std::move(meaning), false};
}

ConfigKey IntKey(std::string path, int64_t default_value, std::string meaning) {
  return {std::move(path), std::to_string(default_value), std::move(meaning), false};
}

ConfigKey BoolKey(std::string path, bool default_value, std::string meaning) {
  return {std::move(path), default_value ? "true" : "false", std::move(meaning), false};
}

ConfigKey NodeKey(std::string path, std::string default_yaml, std::string meaning) {
  return {std::move(path), std::move(default_yaml), std::move(meaning), true};
}

ConfigKey OpenMapKey(std::string path, std::string meaning) {
  ConfigKey key{std::move(path), "{}", std::move(meaning), true};
  key.open_map = true;
  return key;
}

ConfigKeys JoinKeys(ConfigKeys a, const ConfigKeys& b) {
  for (const auto& key : b) {
    if (std::none_of(a.begin(), a.end(), [&](const ConfigKey& k) { return k.path == key.path; })) {
      a.push_back(key);
    }
  }
  return a;
}

std::string NearestKey(const std::string& unknown, const std::vector<std::string>& known) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, unknown.size() / 4) + 1;
  for (const auto& candidate : known) {
    const size_t d = EditDistance(unknown, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

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

StatusOr<Config> Config::FromArgs(int argc, char** argv, const ConfigKeys& keys) {
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
    if (!loaded.ok()) return InvalidArgument(file + ": " + loaded.status().message());
    config = std::move(*loaded);
  }
  config.overrides_ = std::move(flags);
  config.Declare(keys);
  if (Status s = config.CheckKnownKeys(); !s.ok()) {
    return file.empty() ? s : InvalidArgument(s.message() + " (file " + file + ")");
  }
  return config;
}

void Config::Declare(const ConfigKeys& keys) {
  for (const auto& key : keys) keys_.emplace(key.path, key);
}

const ConfigKey* Config::OpenMapOf(const std::string& path) const {
  for (size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', dot + 1)) {
    auto it = keys_.find(path.substr(0, dot));
    if (it != keys_.end() && it->second.open_map) return &it->second;
  }
  return nullptr;
}

Status Config::CheckKnownKeys() const {
  std::vector<std::string> paths;
  for (const auto& [path, key] : keys_) paths.push_back(path);
  for (const auto& [path, value] : overrides_) {
    if (OpenMapOf(path) != nullptr) continue;  // --kafka.properties.request.timeout.ms
    auto it = keys_.find(path);
    if (it == keys_.end())
      return Unknown("flag", "--" + path, [&] {
        std::vector<std::string> flags;
        for (const auto& p : paths) flags.push_back("--" + p);
        return flags;
      }());
    if (it->second.node) {
      return InvalidArgument("--" + path + ": a list or map, set in the configuration file");
    }
  }
  std::map<std::string, std::string> env_names;  // LOYALTY_KAFKA_BROKERS -> kafka.brokers
  std::vector<std::string> map_prefixes;         // LOYALTY_KAFKA_PROPERTIES_
  for (const auto& [path, key] : keys_) {
    if (!key.node) env_names.emplace(EnvName(path), path);
    if (key.open_map) map_prefixes.push_back(EnvName(path) + "_");
  }
  for (char** env = environ; env != nullptr && *env != nullptr; ++env) {
    std::string name = *env;
    name = name.substr(0, name.find('='));
    const bool map_entry = std::any_of(map_prefixes.begin(), map_prefixes.end(), [&](auto& p) {
      return name.size() > p.size() && name.rfind(p, 0) == 0;
    });
    // LOYALTY_TEST_*: the test harness's own variables (e.g. which Kafka the tests use).
    if (name.rfind("LOYALTY_", 0) != 0 || env_names.count(name) > 0 || map_entry ||
        kSharedEnvironment.count(name) > 0 || name.rfind("LOYALTY_TEST_", 0) == 0) {
      continue;
    }
    std::vector<std::string> known;
    for (const auto& [env_name, path] : env_names) known.push_back(env_name);
    return Unknown("environment variable", name, known);
  }
  // The file: every scalar must be a declared key; a map is walked into where declared keys
  // lie below it; a declared node key takes whatever it holds (its parser checks it).
  std::vector<std::pair<std::string, YAML::Node>> pending;
  if (root_ && !root_.IsNull()) {
    if (!root_.IsMap()) return InvalidArgument("config: the file is not a map of keys");
    pending.emplace_back("", root_);
  }
  while (!pending.empty()) {
    auto [prefix, node] = pending.back();
    pending.pop_back();
    for (const auto& entry : node) {
      const std::string path = prefix + entry.first.as<std::string>();
      if (auto it = keys_.find(path); it != keys_.end()) {
        if (!it->second.node && !entry.second.IsScalar() && !entry.second.IsNull()) {
          return InvalidArgument("config " + path + ": must be a single value");
        }
        if (it->second.open_map && !entry.second.IsNull()) {
          if (!entry.second.IsMap()) {
            return InvalidArgument("config " + path + ": must be a map of name: value");
          }
          for (const auto& item : entry.second) {
            if (!item.second.IsScalar()) {
              return InvalidArgument("config " + path + "." + item.first.as<std::string>() +
                                     ": must be a single value (write the name whole, "
                                     "dots included)");
            }
          }
        }
        continue;
      }
      const bool has_keys_below =
          std::any_of(paths.begin(), paths.end(),
                      [&](const std::string& p) { return p.rfind(path + ".", 0) == 0; });
      if (has_keys_below && entry.second.IsMap()) {
        pending.emplace_back(path + ".", entry.second);
      } else if (!has_keys_below) {
        return Unknown("key", path, paths);
      } else {
        return InvalidArgument("config " + path + ": must be a map of keys");
      }
    }
  }
  return Status::Ok();
}

const ConfigKey& Config::Declared(const std::string& path) const {
  auto it = keys_.find(path);
  if (it == keys_.end()) throw std::logic_error("config key " + path + " is read but not declared");
  return it->second;
}

YAML::Node Config::FileNode(const std::string& path) const {
  YAML::Node node = YAML::Clone(root_);
  for (const auto& part : SplitPath(path)) {
    if (!node || !node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    node = node[part];
  }
  return node;
}

YAML::Node Config::GetNode(const std::string& path) const {
  const ConfigKey& key = Declared(path);
  if (YAML::Node node = FileNode(path); node && !node.IsNull()) return node;
  return YAML::Load(key.default_value);
}

std::map<std::string, std::string> Config::GetMap(const std::string& path) const {
  const ConfigKey& key = Declared(path);
  if (!key.open_map) throw std::logic_error("config key " + path + " is not an open map");
  std::map<std::string, std::string> out;
  if (YAML::Node node = FileNode(path); node && node.IsMap()) {
    for (const auto& item : node) {
      if (!item.second.IsScalar()) {
        throw std::invalid_argument("config " + path + "." + item.first.as<std::string>() +
                                    ": must be a single value");
      }
      out[item.first.as<std::string>()] = item.second.Scalar();
    }
  }
  const std::string env_prefix = EnvName(path) + "_";
  for (char** env = environ; env != nullptr && *env != nullptr; ++env) {
    const std::string entry = *env;
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq <= env_prefix.size() || entry.rfind(env_prefix, 0) != 0) {
      continue;
    }
    std::string name = entry.substr(env_prefix.size(), eq - env_prefix.size());
    for (char& c : name) {
      c = c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    out[name] = entry.substr(eq + 1);
  }
  for (const auto& [flag, value] : overrides_) {
    if (flag.size() > path.size() + 1 && flag.rfind(path + ".", 0) == 0) {
      out[flag.substr(path.size() + 1)] = value;
    }
  }
  return out;
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
  YAML::Node node = FileNode(path);
  if (node && node.IsScalar()) {
    *value = node.Scalar();
    return true;
  }
  return false;
}

std::string Config::GetString(const std::string& path) const {
  const ConfigKey& key = Declared(path);
  std::string value;
  return Lookup(path, &value) ? value : key.default_value;
}

int64_t Config::GetInt(const std::string& path) const {
  const std::string value = GetString(path);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno == ERANGE) BadValue(path, value, "an integer");
  return v;
}

bool Config::GetBool(const std::string& path) const {
  const std::string value = GetString(path);
  if (value == "true" || value == "1" || value == "yes") return true;
  if (value == "false" || value == "0" || value == "no") return false;
  BadValue(path, value, "a boolean");
}

std::string ConfigHelp(const std::string& program, const ConfigKeys& keys) {
  std::string out = "usage: " + program + " [--config=FILE] [--KEY=VALUE ...]\n" + "       " +
                    program + " --help | --print-default-config\n\n" +
                    "Every KEY below can be set in the YAML file (--config=FILE or "
                    "LOYALTY_CONFIG; nested by the dots),\n"
                    "as an environment variable (LOYALTY_ + KEY upper-cased, dots as "
                    "underscores), or as --KEY=VALUE.\n"
                    "Flags win over the environment, the environment over the file. Unknown "
                    "keys are refused.\n"
                    "--print-default-config prints the annotated file of every default.\n\n"
                    "Keys (default, meaning):\n";
  for (const auto& key : keys) {
    std::string shown = key.node ? "(list or map in the file; see --print-default-config)"
                                 : (key.default_value.empty() ? "\"\"" : key.default_value);
    if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
    out += "  " + key.path + " = " + shown + "\n      " + key.meaning + "\n";
  }
  return out;
}

std::string DefaultConfigYaml(const std::string& title, const ConfigKeys& keys) {
  // The keys as a tree, children in the order their first key was declared.
  struct Tree {
    std::string name;
    const ConfigKey* key = nullptr;
    std::vector<Tree> children;
  };
  Tree root;
  for (const auto& key : keys) {
    Tree* at = &root;
    for (const auto& part : SplitPath(key.path)) {
      auto it = std::find_if(at->children.begin(), at->children.end(),
                             [&](const Tree& t) { return t.name == part; });
      if (it == at->children.end()) {
        at->children.push_back({part, nullptr, {}});
        it = std::prev(at->children.end());
      }
      at = &*it;
    }
    at->key = &key;
  }
  std::string out;
  std::stringstream title_lines(title);
  for (std::string line; std::getline(title_lines, line);) out += "# " + line + "\n";
  out +=
      "# Every key can also be set as an environment variable (LOYALTY_ + the path upper-cased,\n"
      "# dots as underscores: LOYALTY_KAFKA_BROKERS) or as a flag (--kafka.brokers=...). Flags\n"
      "# win over the environment, the environment over this file. Unknown keys are refused.\n";
  auto emit = [&out](auto& self, const Tree& tree, int depth) -> void {
    const std::string indent(2 * depth, ' ');
    if (tree.key != nullptr) {
      out += indent + "# " + tree.key->meaning + "\n";
      if (!tree.key->node) {
        out += indent + tree.name + ": " + YamlScalar(tree.key->default_value) + "\n";
        return;
      }
      YAML::Node value = YAML::Load(tree.key->default_value);
      if (value.IsSequence() && value.size() > 0) {
        out += indent + tree.name + ":\n";
        for (const auto& item : value) out += indent + "  - " + FlowYaml(item) + "\n";
      } else if (value.IsMap() && value.size() > 0) {
        out += indent + tree.name + ":\n";
        for (const auto& item : value) {
          out += indent + "  " + item.first.as<std::string>() + ": " + FlowYaml(item.second) + "\n";
        }
      } else {
        out += indent + tree.name + ": " + FlowYaml(value) + "\n";
      }
      return;
    }
    out += indent + tree.name + ":\n";
    for (const auto& child : tree.children) self(self, child, depth + 1);
  };
  for (const auto& child : root.children) {
    out += "\n";
    emit(emit, child, 0);
  }
  return out;
}

}  // namespace loyalty
