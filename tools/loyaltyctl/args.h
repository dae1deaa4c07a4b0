// loyaltyctl's command line, parsed by hand: the first word is the command, the other words
// are its arguments, and flags may appear anywhere as --flag=value or --flag value. Switches
// (flags without a value, like --json) are named up front so that "--json balance" is never
// read as --json=balance. "--" ends the flags. A word that starts with a single "-" (such as
// -50) is an argument, so negative numbers need no quoting.
//
// Nothing here talks to a service, so the unit tests cover it directly.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace loyalty::ctl {

// A mistake on the command line; the message names the argument. loyaltyctl exits with 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses a whole number and checks its range. `name` is what the user typed or sees in the
// usage ("POINTS", "--limit") and starts the error message.
int64_t ParseInt(std::string_view name, std::string_view text, int64_t min, int64_t max);

// A positive number of seconds, fractions allowed ("10", "0.5").
double ParseSeconds(std::string_view name, std::string_view text);

// A point in time as unix milliseconds. Accepts unix milliseconds ("1767225600000") or
// ISO-8601: a date ("2026-01-01", midnight UTC), or a date and time to the minute, second or
// millisecond ("2026-01-01T09:30", "2026-01-01T09:30:00.250") with "Z" or an offset such as
// "+02:00" (no zone: UTC). Calendar checked: 2026-02-30 is a usage error.
int64_t ParseTimeMs(std::string_view name, std::string_view text);

// A comma-separated list ("a,b"): items trimmed of spaces. An empty item ("a,,b") is a usage
// error; an empty text is an empty list.
std::vector<std::string> ParseList(std::string_view name, std::string_view text);

// Basis points (10000 = 100%) in the form an operator thinks in: "2x" or "1.5x" (a factor,
// 2x = 20000), "5%" or "2.5%" (a percentage, 5% = 500) or a plain whole number of basis
// points ("20000"). Exact integer arithmetic: at most 4 fraction digits for a factor and 2
// for a percentage, so that every accepted value is a whole number of basis points.
int64_t ParseBasisPoints(std::string_view name, std::string_view text);

class Args {
 public:
  // args excludes the program name. Throws UsageError for a flag without a value, a value
  // given to a switch, or a flag given twice.
  static Args Parse(const std::vector<std::string>& args, const std::set<std::string>& switches);

  // The first word, or "" if there is none.
  const std::string& command() const { return command_; }
  // The words after the command.
  const std::vector<std::string>& words() const { return words_; }
  const std::map<std::string, std::string>& flags() const { return flags_; }

  bool Has(const std::string& flag) const { return flags_.count(flag) > 0; }
  // The flag's value, or fallback when it is absent.
  std::string Get(const std::string& flag, const std::string& fallback = "") const;
  // The flag's value; UsageError when it is absent or empty.
  std::string Required(const std::string& flag) const;
  // The flag as a whole number in [min, max], or fallback when it is absent.
  int64_t GetInt(const std::string& flag, int64_t fallback, int64_t min, int64_t max) const;
  // Word i (after the command) as a whole number in [min, max]; name is its usage name.
  int64_t WordInt(size_t i, std::string_view name, int64_t min, int64_t max) const;

  // For commands of two words ("campaign create"): moves the first word after the command
  // into the command. Throws UsageError when there is no word to move.
  void JoinSubcommand();

 private:
  std::string command_;
  std::vector<std::string> words_;
  std::map<std::string, std::string> flags_;
};

}  // namespace loyalty::ctl
