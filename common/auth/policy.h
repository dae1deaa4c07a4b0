// Who may call what: principals (the caller's certificate identity, or an API key's name)
// map to roles, and roles to the gRPC methods they may call, with limits on a few arguments
// where the method alone says too little (how much a support agent may adjust, which award
// sources a service owns). Deny by default: a method no role of the caller names is refused.
//
// The shipped roles (till, support, marketing, admin, and one per internal service with only
// the calls that service makes) are the defaults; a policy file (YAML, docs/security.md) adds
// roles, replaces shipped ones by name, and maps principals to roles. No gRPC type here: the
// gRPC side is common/auth/auth_processor.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace loyalty::auth {

// A role: the methods it may call ("/loyalty.v1.AccrualService/GetBalance"; a trailing "*"
// matches any rest: "/loyalty.v1.AccrualService/Get*", "/loyalty.v1.ReferralService/*", "*")
// and the limits on arguments it is held to.
struct Role {
  std::vector<std::string> methods;
  // AdjustPoints: the largest |delta| (nullopt: no limit), and whether only negative deltas
  // (reversals) are allowed.
  std::optional<int64_t> adjust_limit;
  bool adjust_negative_only = false;
  // AwardPoints: the sources it may award with (empty: any).
  std::set<std::string> award_sources;
};

// What a call's arguments are checked against: the most any of the caller's roles that allow
// the method grants.
struct ArgumentLimits {
  std::optional<int64_t> adjust_limit;  // nullopt: none
  bool adjust_negative_only = false;
  std::optional<std::set<std::string>> award_sources;  // nullopt: any

  // OK, or PERMISSION_DENIED naming the argument, the limit and the principal.
  Status CheckAdjust(int64_t delta, std::string_view principal) const;
  Status CheckAward(std::string_view source, std::string_view principal) const;
};

class Policy {
 public:
  // The shipped roles and principals (spiffe://loyalty/service/<name> -> service.<name>,
  // spiffe://loyalty/admin/* -> admin, spiffe://loyalty/till/* -> till, .../support/* ->
  // support, .../marketing/* -> marketing).
  static Policy Defaults();
  // The defaults with the file's roles and principals applied (docs/security.md, "Policy
  // file"). INVALID_ARGUMENT naming what is wrong: an unknown key, a role a principal names
  // that does not exist, a method pattern that is not "/package.Service/Method".
  static StatusOr<Policy> FromYaml(const std::string& text);

  // The roles of a principal: those of every matching principals entry.
  std::vector<std::string> RolesOf(std::string_view principal) const;
  // Whether any of the roles may call method ("/loyalty.v1.AccrualService/GetBalance").
  bool Allows(const std::vector<std::string>& roles, std::string_view method) const;
  // The argument limits for method under the roles that allow it.
  ArgumentLimits LimitsFor(const std::vector<std::string>& roles, std::string_view method) const;

  bool HasRole(const std::string& name) const { return roles_.count(name) != 0; }
  const std::map<std::string, Role>& roles() const { return roles_; }

 private:
  struct PrincipalRule {
    std::string pattern;  // exact, or a prefix ending in "*"
    std::vector<std::string> roles;
  };
  std::map<std::string, Role> roles_;
  std::vector<PrincipalRule> principals_;
};

// "*"-suffix matching as the policy uses it.
bool MatchesPattern(std::string_view pattern, std::string_view value);

}  // namespace loyalty::auth
