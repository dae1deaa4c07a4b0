#include "tools/loyaltyctl/args.h"

#include <algorithm>
#include <cctype>
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

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t DaysInMonth(int64_t y, int64_t m) {
  static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Reads exactly `width` digits at text[*pos]; false if they are not all digits.
bool Digits(std::string_view text, size_t* pos, size_t width, int64_t* out) {
  if (*pos + width > text.size()) return false;
  int64_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *pos += width;
  *out = value;
  return true;
}

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return std::isdigit(c) != 0; });
}

// "1.25" with at most max_fraction digits after the point, scaled by 10^scale_digits:
// ("1.25", 4) -> 12500. Returns -1 when the text is not such a number or is too large.
int64_t ScaledDecimal(std::string_view text, int scale_digits) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (!AllDigits(whole) || (dot != std::string_view::npos && !AllDigits(fraction)) ||
      whole.size() > 9 || fraction.size() > static_cast<size_t>(scale_digits)) {
    return -1;
  }
  int64_t value = 0;
  for (char c : whole) value = value * 10 + (c - '0');
  for (int i = 0; i < scale_digits; ++i) {
    value = value * 10 + (static_cast<size_t>(i) < fraction.size() ? fraction[i] - '0' : 0);
  }
  return value;
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

int64_t ParseTimeMs(std::string_view name, std::string_view text) {
  const std::string bad = std::string(name) + ": " + Quoted(text) +
                          " is not a time (use 2026-01-01, 2026-01-01T09:30:00Z, "
                          "2026-01-01T09:30+02:00 or unix milliseconds)";
  if (AllDigits(text)) {
    int64_t ms = ParseInt(name, text, 0, std::numeric_limits<int64_t>::max());
    // Ten digits are unix seconds, a common slip that would silently mean January 1970.
    if (ms < 100'000'000'000) {
      throw UsageError(std::string(name) + ": " + Quoted(text) +
                       " looks like unix seconds; give milliseconds or an ISO-8601 time");
    }
    return ms;
  }
  size_t pos = 0;
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!Digits(text, &pos, 4, &year) || pos >= text.size() || text[pos++] != '-' ||
      !Digits(text, &pos, 2, &month) || pos >= text.size() || text[pos++] != '-' ||
      !Digits(text, &pos, 2, &day)) {
    throw UsageError(bad);
  }
  int64_t offset_minutes = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') throw UsageError(bad);
    ++pos;
    if (!Digits(text, &pos, 2, &hour) || pos >= text.size() || text[pos++] != ':' ||
        !Digits(text, &pos, 2, &minute)) {
      throw UsageError(bad);
    }
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!Digits(text, &pos, 2, &second)) throw UsageError(bad);
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        size_t start = pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
        size_t width = pos - start;
        // Milliseconds are the resolution of every time in the API.
        if (width == 0 || width > 3) throw UsageError(bad);
        pos = start;
        Digits(text, &pos, width, &millis);
        for (size_t i = width; i < 3; ++i) millis *= 10;
      }
    }
    if (pos < text.size()) {
      char zone = text[pos++];
      if ((zone == 'Z' || zone == 'z') && pos == text.size()) {
        // UTC
      } else if (zone == '+' || zone == '-') {
        int64_t offset_hours = 0, offset_mins = 0;
        if (!Digits(text, &pos, 2, &offset_hours)) throw UsageError(bad);
        if (pos < text.size() && text[pos] == ':') ++pos;
        if (!Digits(text, &pos, 2, &offset_mins) || pos != text.size() || offset_hours > 23 ||
            offset_mins > 59) {
          throw UsageError(bad);
        }
        offset_minutes = (offset_hours * 60 + offset_mins) * (zone == '-' ? -1 : 1);
      } else {
        throw UsageError(bad);
      }
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    throw UsageError(std::string(name) + ": " + Quoted(text) + " is not a valid date and time");
  }
  int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                    offset_minutes * 60;
  return seconds * 1000 + millis;
}

std::vector<std::string> ParseList(std::string_view name, std::string_view text) {
  std::vector<std::string> items;
  if (text.empty()) return items;
  while (true) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) {
      throw UsageError(std::string(name) + ": empty item in " + Quoted(text) +
                       " (separate items with single commas)");
    }
    items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

int64_t ParseBasisPoints(std::string_view name, std::string_view text) {
  int64_t value = -1;
  if (!text.empty() && (text.back() == 'x' || text.back() == 'X')) {
    value = ScaledDecimal(text.substr(0, text.size() - 1), 4);  // 1x = 10000 bp
  } else if (!text.empty() && text.back() == '%') {
    value = ScaledDecimal(text.substr(0, text.size() - 1), 2);  // 1% = 100 bp
  } else if (AllDigits(text)) {
    return ParseInt(name, text, 1, 1'000'000'000);
  }
  if (value < 0) {
    throw UsageError(std::string(name) + ": " + Quoted(text) +
                     " is not basis points (20000), a factor (2x, 1.5x) or a percentage (5%)");
  }
  if (value == 0) throw UsageError(std::string(name) + ": must be more than 0");
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

void Args::JoinSubcommand() {
  if (words_.empty()) throw UsageError(command_ + " needs a subcommand");
  command_ += " " + words_.front();
  words_.erase(words_.begin());
}

}  // namespace loyalty::ctl
