#include "tools/loyaltyctl/args.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace loyalty::ctl {
namespace {

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string RangeText(int64_t min, int64_t max) {
  if (max == std::numeric_limits<int64_t>::max()) return "must be at least " + std::to_string(min);
  return "is out of range " + std::to_string(min) + ".." + std::to_string(max);
}

}  // namespace

int64_t ParseInt(std::string_view name, std::string_view text, int64_t min, int64_t max) {
  std::string_view digits = text;
  if (digits.size() > 1 && digits[0] == '+') digits.remove_prefix(1);  // "+50" for adjust
  int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) {
    throw UsageError(std::string(name) + ": " + Quoted(text) + " " + RangeText(min, max));
  }
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    throw UsageError(std::string(name) + ": " + Quoted(text) + " is not a whole number");
  }
  if (value < min || value > max) {
    throw UsageError(std::string(name) + ": " + std::string(text) + " " + RangeText(min, max));
  }
  return value;
}

double ParseSeconds(std::string_view name, std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value) || value <= 0 || value > 86400) {
    throw UsageError(std::string(name) + ": " + Quoted(text) +
                     " is not a number of seconds in (0, 86400]");
  }
  return value;
}

Args Args::Parse(const std::vector<std::string>& args, const std::set<std::string>& switches) {
  Args out;
  std::vector<std::string> words;
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_ended || arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      words.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    size_t eq = arg.find('=');
    std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (name.empty()) throw UsageError(Quoted(arg) + ": a flag needs a name");
    std::string value;
    if (switches.count(name)) {
      if (eq != std::string::npos) throw UsageError("--" + name + " takes no value");
    } else if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size() && args[i + 1].compare(0, 2, "--") != 0) {
      value = args[++i];
    } else {
      throw UsageError("--" + name + " needs a value (--" + name + "=VALUE)");
    }
    if (!out.flags_.emplace(name, value).second) {
      throw UsageError("--" + name + " is given more than once");
    }
  }
  if (!words.empty()) {
    out.command_ = words.front();
    out.words_.assign(words.begin() + 1, words.end());
  }
  return out;
}

std::string Args::Get(const std::string& flag, const std::string& fallback) const {
  auto it = flags_.find(flag);
  return it == flags_.end() ? fallback : it->second;
}

std::string Args::Required(const std::string& flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end()) throw UsageError("--" + flag + " is required");
  if (it->second.empty()) throw UsageError("--" + flag + " must not be empty");
  return it->second;
}

int64_t Args::GetInt(const std::string& flag, int64_t fallback, int64_t min, int64_t max) const {
  auto it = flags_.find(flag);
  if (it == flags_.end()) return fallback;
  return ParseInt("--" + flag, it->second, min, max);
}

int64_t Args::WordInt(size_t i, std::string_view name, int64_t min, int64_t max) const {
  if (i >= words_.size()) throw UsageError(std::string(name) + " is required");
  return ParseInt(name, words_[i], min, max);
}

}  // namespace loyalty::ctl
