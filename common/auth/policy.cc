#include "common/auth/policy.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "common/field_limits.h"

namespace loyalty::auth {
namespace {

constexpr std::string_view kAccrual = "/loyalty.v1.AccrualService/";
constexpr std::string_view kRedemption = "/loyalty.v1.RedemptionService/";
constexpr std::string_view kReferral = "/loyalty.v1.ReferralService/";
constexpr std::string_view kNotification = "/loyalty.v1.NotificationService/";

// Every authenticated caller may ask for health and list the services (grpcurl, probes).
constexpr std::string_view kEveryone[] = {"/grpc.health.v1.Health/",
                                          "/grpc.reflection.v1alpha.ServerReflection/"};

constexpr size_t kMaxRoles = 100;
constexpr size_t kMaxPrincipals = 10'000;
constexpr size_t kMaxMethodsPerRole = 500;

std::vector<std::string> In(std::string_view service, std::initializer_list<const char*> methods) {
  std::vector<std::string> out;
  for (const char* m : methods) out.push_back(std::string(service) + m);
  return out;
}

void Append(std::vector<std::string>& to, const std::vector<std::string>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

std::map<std::string, Role> ShippedRoles() {
  std::map<std::string, Role> roles;
  Role& till = roles["till"];
  till.methods = In(kAccrual, {"GetMember", "GetBalance", "HoldPoints", "CaptureHold", "VoidHold"});
  Append(till.methods, In(kRedemption, {"QuoteCheckout", "StartCheckout", "CompleteCheckout",
                                        "CancelCheckout", "GetCheckout", "ValidateVoucher",
                                        "UseVoucher", "ListRewards", "GetReward"}));

  Role& support = roles["support"];
  support.methods = In(kAccrual, {"GetMember", "GetBalance", "ListLedger", "AdjustPoints",
                                  "ListCampaigns", "GetCampaign"});
  Append(support.methods, In(kRedemption, {"GetRedemption", "ListRedemptions", "GetCheckout",
                                           "GetReward", "ListRewards"}));
  Append(support.methods,
         In(kReferral, {"GetReferralCode", "GetReferral", "GetReferralStats", "ListReferrals",
                        "ListHeldReferrals", "ApproveReferral", "RejectReferral"}));
  Append(support.methods, In(kNotification, {"GetPreferences", "ListNotifications"}));
  support.adjust_limit = 5000;

  Role& marketing = roles["marketing"];
  marketing.methods = In(
      kAccrual, {"CreateCampaign", "UpdateCampaign", "GetCampaign", "ListCampaigns", "EndCampaign",
                 "ListCampaignAudit", "SimulatePurchase", "SetMemberSegments", "ListPartnerStats"});
  Append(marketing.methods, In(kRedemption, {"CreateReward", "UpdateReward", "GetReward",
                                             "ListRewards", "RunPrizeDraw", "GetPrizeDraw"}));
  Append(marketing.methods, In(kReferral, {"SetVanityCode", "GetReferralStats"}));
  Append(marketing.methods, In(kNotification, {"SetTemplate", "GetTemplate"}));

  roles["admin"].methods = {"*"};

  // The internal services: exactly the calls each makes (services/*/main.cc wiring).
  Role& redemption = roles["service.redemption"];
  redemption.methods = In(kAccrual, {"HoldPoints", "CaptureHold", "VoidHold", "AwardPoints",
                                     "GetBalance", "GetMember"});
  redemption.award_sources = {"redemption"};
  Role& referral = roles["service.referral"];
  referral.methods = In(kAccrual, {"AwardPoints", "AdjustPoints", "GetMember"});
  referral.award_sources = {"referral"};
  referral.adjust_negative_only = true;  // it only reverses its own awards
  Role& notification = roles["service.notification"];
  notification.methods = In(kAccrual, {"GetBalance", "ListLedger", "GetMember"});
  Append(notification.methods, In(kRedemption, {"ListRewards"}));
  roles["service.accrual"];  // calls no other service
  return roles;
}

Status CheckMethodPattern(const std::string& role, const std::string& pattern) {
  bool ok = pattern == "*" ||
            (pattern.size() > 1 && pattern[0] == '/' && pattern.find('/', 1) != std::string::npos);
  if (!ok || pattern.size() > limits::kIdBytes * 2) {
    return InvalidArgument("roles." + role + ".methods: '" + Quote(pattern) +
                           "' is not /package.Service/Method (a trailing * matches any rest)");
  }
  return Status::Ok();
}

StatusOr<Role> ParseRole(const std::string& name, const YAML::Node& node) {
  if (!node.IsMap()) return InvalidArgument("roles." + name + ": not a map");
  Role role;
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (key == "methods") {
      if (!value.IsSequence() || value.size() > kMaxMethodsPerRole) {
        return InvalidArgument("roles." + name + ".methods: a list of at most " +
                               std::to_string(kMaxMethodsPerRole) + " patterns");
      }
      for (const auto& m : value) {
        std::string pattern = m.as<std::string>();
        if (Status s = CheckMethodPattern(name, pattern); !s.ok()) return s;
        role.methods.push_back(std::move(pattern));
      }
    } else if (key == "adjust_limit") {
      int64_t limit = value.as<int64_t>();
      if (limit < 0) return InvalidArgument("roles." + name + ".adjust_limit: negative");
      role.adjust_limit = limit;
    } else if (key == "adjust_negative_only") {
      role.adjust_negative_only = value.as<bool>();
    } else if (key == "award_sources") {
      if (!value.IsSequence()) return InvalidArgument("roles." + name + ".award_sources: a list");
      for (const auto& s : value) role.award_sources.insert(s.as<std::string>());
    } else {
      return InvalidArgument("roles." + name + ": unknown key '" + Quote(key) +
                             "' (methods, adjust_limit, adjust_negative_only, award_sources)");
    }
  }
  return role;
}

}  // namespace

bool MatchesPattern(std::string_view pattern, std::string_view value) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return value.substr(0, pattern.size()) == pattern;
  }
  return pattern == value;
}

Status ArgumentLimits::CheckAdjust(int64_t delta, std::string_view principal) const {
  if (adjust_negative_only && delta > 0) {
    return {Code::kPermissionDenied, "delta: " + std::string(principal) +
                                         " may only adjust downwards (a reversal), not +" +
                                         std::to_string(delta)};
  }
  const int64_t magnitude = delta < 0 ? -delta : delta;
  if (adjust_limit && magnitude > *adjust_limit) {
    return {Code::kPermissionDenied, "delta: " + std::to_string(delta) + " is beyond " +
                                         std::string(principal) + "'s adjustment limit of " +
                                         std::to_string(*adjust_limit)};
  }
  return Status::Ok();
}

Status ArgumentLimits::CheckAward(std::string_view source, std::string_view principal) const {
  if (award_sources && award_sources->count(std::string(source)) == 0) {
    return {Code::kPermissionDenied, "source: " + std::string(principal) +
                                         " may not award with source '" +
                                         Quote(std::string(source)) + "'"};
  }
  return Status::Ok();
}

Policy Policy::Defaults() {
  Policy policy;
  policy.roles_ = ShippedRoles();
  for (const char* service : {"accrual", "redemption", "referral", "notification"}) {
    policy.principals_.push_back(
        {std::string("spiffe://loyalty/service/") + service, {std::string("service.") + service}});
  }
  policy.principals_.push_back({"spiffe://loyalty/admin/*", {"admin"}});
  for (const char* role : {"till", "support", "marketing"}) {
    policy.principals_.push_back({std::string("spiffe://loyalty/") + role + "/*", {role}});
  }
  return policy;
}

StatusOr<Policy> Policy::FromYaml(const std::string& text) {
  Policy policy = Defaults();
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("policy is not YAML: ") + e.what());
  }
  if (root.IsNull()) return policy;
  if (!root.IsMap()) return InvalidArgument("policy: not a map of roles and principals");
  try {
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      if (key == "roles") {
        if (!entry.second.IsMap() || entry.second.size() > kMaxRoles) {
          return InvalidArgument("roles: a map of at most " + std::to_string(kMaxRoles));
        }
        for (const auto& r : entry.second) {
          const std::string name = r.first.as<std::string>();
          if (name.empty() || name.size() > 64) return InvalidArgument("roles: a bad name");
          auto role = ParseRole(name, r.second);
          if (!role.ok()) return role.status();
          policy.roles_[name] = std::move(*role);  // replaces a shipped role of that name
        }
      } else if (key == "principals") {
        if (!entry.second.IsSequence() || entry.second.size() > kMaxPrincipals) {
          return InvalidArgument("principals: a list of at most " + std::to_string(kMaxPrincipals) +
                                 " {match, roles}");
        }
        for (const auto& p : entry.second) {
          if (!p.IsMap() || !p["match"] || !p["roles"] || !p["roles"].IsSequence()) {
            return InvalidArgument("principals: each entry is {match: PATTERN, roles: [..]}");
          }
          PrincipalRule rule{p["match"].as<std::string>(), {}};
          if (rule.pattern.empty() || rule.pattern.size() > 512) {
            return InvalidArgument("principals: a bad match '" + Quote(rule.pattern) + "'");
          }
          for (const auto& r : p["roles"]) rule.roles.push_back(r.as<std::string>());
          policy.principals_.push_back(std::move(rule));
        }
      } else {
        return InvalidArgument("policy: unknown key '" + Quote(key) + "' (roles, principals)");
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("policy: ") + e.what());
  }
  for (const auto& rule : policy.principals_) {
    for (const auto& role : rule.roles) {
      if (!policy.HasRole(role)) {
        return InvalidArgument("principals: '" + Quote(rule.pattern) + "' names role '" +
                               Quote(role) + "', which no roles entry defines");
      }
    }
  }
  return policy;
}

std::vector<std::string> Policy::RolesOf(std::string_view principal) const {
  std::vector<std::string> roles;
  for (const auto& rule : principals_) {
    if (!MatchesPattern(rule.pattern, principal)) continue;
    for (const auto& role : rule.roles) {
      if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
    }
  }
  return roles;
}

bool Policy::Allows(const std::vector<std::string>& roles, std::string_view method) const {
  if (roles.empty()) return false;
  for (std::string_view prefix : kEveryone) {
    if (method.substr(0, prefix.size()) == prefix) return true;
  }
  for (const auto& name : roles) {
    auto it = roles_.find(name);
    if (it == roles_.end()) continue;
    for (const auto& pattern : it->second.methods) {
      if (MatchesPattern(pattern, method)) return true;
    }
  }
  return false;
}

ArgumentLimits Policy::LimitsFor(const std::vector<std::string>& roles,
                                 std::string_view method) const {
  // Start from nothing allowed and widen by each role that allows the method.
  ArgumentLimits limits;
  bool any = false;
  bool adjust_unlimited = false, adjust_any_sign = false, any_source = false;
  std::set<std::string> sources;
  for (const auto& name : roles) {
    auto it = roles_.find(name);
    if (it == roles_.end()) continue;
    const Role& role = it->second;
    bool allows = std::any_of(role.methods.begin(), role.methods.end(),
                              [&](const std::string& p) { return MatchesPattern(p, method); });
    if (!allows) continue;
    any = true;
    if (!role.adjust_limit)
      adjust_unlimited = true;
    else
      limits.adjust_limit = std::max(limits.adjust_limit.value_or(0), *role.adjust_limit);
    if (!role.adjust_negative_only) adjust_any_sign = true;
    if (role.award_sources.empty()) any_source = true;
    sources.insert(role.award_sources.begin(), role.award_sources.end());
  }
  if (!any) return {std::optional<int64_t>(0), true, std::set<std::string>{}};
  if (adjust_unlimited) limits.adjust_limit.reset();
  limits.adjust_negative_only = !adjust_any_sign;
  if (!any_source) limits.award_sources = std::move(sources);
  return limits;
}

}  // namespace loyalty::auth
