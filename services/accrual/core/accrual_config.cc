#include "services/accrual/core/accrual_config.h"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>

#include "common/cache_config.h"

namespace loyalty::accrual {

const TierRule* AccrualConfig::FindTier(const std::string& name) const {
  int i = TierIndex(name);
  return i < 0 ? nullptr : &tiers[i];
}

int AccrualConfig::TierIndex(const std::string& name) const {
  for (size_t i = 0; i < tiers.size(); ++i) {
    if (tiers[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const PartnerRule* AccrualConfig::FindPartner(const std::string& id) const {
  for (const auto& p : partners) {
    if (p.partner_id == id) return &p;
  }
  return nullptr;
}

const ActivityRule* AccrualConfig::FindActivity(const std::string& type) const {
  for (const auto& a : activities) {
    if (a.type == type) return &a;
  }
  return nullptr;
}

namespace {

template <typename T>
T Field(const YAML::Node& node, const char* key, T fallback) {
  return node[key] ? node[key].as<T>() : fallback;
}

// An entry of a list key may only have the fields its parser reads (a typo would otherwise
// silently leave the default).
void OnlyFields(const YAML::Node& entry, const std::string& key,
                std::initializer_list<const char*> fields) {
  if (!entry.IsMap()) throw std::invalid_argument(key + ": each entry must be a map");
  for (const auto& field : entry) {
    const std::string name = field.first.as<std::string>();
    if (std::none_of(fields.begin(), fields.end(), [&](const char* f) { return name == f; })) {
      throw std::invalid_argument(key + ": unknown field '" + name.substr(0, 64) + "'");
    }
  }
}

const char* ExpiryPolicyName(ExpiryPolicy policy) {
  switch (policy) {
    case ExpiryPolicy::kNever:
      return "never";
    case ExpiryPolicy::kRolling:
      return "rolling";
    case ExpiryPolicy::kEndOfMonth:
      return "end_of_month";
    case ExpiryPolicy::kEndOfQuarter:
      return "end_of_quarter";
    case ExpiryPolicy::kEndOfYear:
      return "end_of_year";
  }
  return "never";
}

// The struct's default lists as YAML, so that the key table's defaults are the struct's.
std::string Yaml(const YAML::Node& node) {
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

std::string TiersYaml(const std::vector<TierRule>& tiers) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto& t : tiers) {
    YAML::Node n;
    n["name"] = t.name;
    n["earn_rate_bp"] = t.earn_rate_bp;
    if (t.qualify_spend_minor != 0) n["qualify_spend_minor"] = t.qualify_spend_minor;
    if (t.qualify_purchases != 0) n["qualify_purchases"] = t.qualify_purchases;
    if (!t.benefits.empty()) n["benefits"] = t.benefits;
    list.push_back(n);
  }
  return Yaml(list);
}

std::string PartnersYaml(const std::vector<PartnerRule>& partners) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto& p : partners) {
    YAML::Node n;
    n["id"] = p.partner_id;
    n["earn_rate_bp"] = p.earn_rate_bp;
    list.push_back(n);
  }
  return Yaml(list);
}

std::string ActivitiesYaml(const std::vector<ActivityRule>& activities) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto& a : activities) {
    YAML::Node n;
    n["type"] = a.type;
    n["points"] = a.points;
    if (a.daily_cap != 0) n["daily_cap"] = a.daily_cap;
    if (a.once_per_object) n["once_per_object"] = true;
    list.push_back(n);
  }
  return Yaml(list);
}

std::string MilestonesYaml(const AccrualConfig& c) {
  YAML::Node n(YAML::NodeType::Map);
  n["purchases"] = c.purchase_milestones;
  n["points"] = c.points_milestones;
  n["bonus"] = YAML::Node(YAML::NodeType::Map);
  for (const auto& [badge, points] : c.milestone_bonus) n["bonus"][badge] = points;
  return Yaml(n);
}

}  // namespace

ConfigKeys AccrualConfig::Keys() {
  const AccrualConfig d;
  return {
      StringKey("program.currency", d.currency,
                "ISO-4217 currency of amounts; purchases in another are dead-lettered"),
      IntKey("program.minor_units_per_point", d.minor_units_per_point,
             "minor units of cashback per point (1: one point per minor unit)"),
      IntKey("program.welcome_bonus", d.welcome_bonus, "points awarded on enrolment"),
      StringKey("program.default_country_code", d.default_country_code,
                "country code for national phone numbers at enrolment, e.g. 380 (empty: "
                "international numbers only)"),
      StringKey("program.default_language", d.default_language,
                "language of members who enrol without one"),
      IntKey("program.return_window_days", d.return_window_days,
             "purchase points stay pending this long (0: available at once)"),
      IntKey("program.return_window_seconds", d.return_window_seconds,
             "the return window in seconds, for short windows in tests; wins if set"),
      IntKey("program.tier_window_days", d.tier_window_days,
             "qualifying spend and purchases are counted over this many days"),
      IntKey("program.tier_review_days", d.tier_review_days,
             "a tier is reviewed this long after it was reached"),
      IntKey("program.tier_grace_days", d.tier_grace_days,
             "below threshold at review: the tier is kept this much longer, then down one"),
      NodeKey("program.tiers", TiersYaml(d.tiers),
              "tiers, lowest first (every member starts in the first): name, earn_rate_bp, "
              "qualify_spend_minor, qualify_purchases, benefits"),
      NodeKey("program.partners", PartnersYaml(d.partners),
              "coalition partners earning at their own rate: id, earn_rate_bp"),
      NodeKey("program.activities", ActivitiesYaml(d.activities),
              "rewarded activities: type, points, daily_cap (0: none), once_per_object"),
      NodeKey("program.milestones", MilestonesYaml(d),
              "badges at purchase counts and point totals; bonus: points per badge id"),
      StringKey("expiry.policy", ExpiryPolicyName(d.expiry),
                "never | rolling | end_of_month | end_of_quarter | end_of_year"),
      IntKey("expiry.days", d.expiry_days, "lifetime of earned points for the rolling policy"),
      IntKey("expiry.remind_days", d.expiry_remind_days,
             "PointsExpiringSoon is sent this long before points expire"),
      IntKey("holds.default_ttl_seconds", d.default_hold_ttl_seconds,
             "a hold without a ttl expires after this"),
      IntKey("holds.max_ttl_seconds", d.max_hold_ttl_seconds, "the longest ttl a hold may ask"),
      CacheKey("cache.members_mb", d.member_cache_bytes >> 20, "member records"),
  };
}

StatusOr<AccrualConfig> AccrualConfig::FromConfig(const Config& in) {
  Config config = in;
  config.Declare(Keys());
  AccrualConfig out;
  try {
    out.currency = config.GetString("program.currency");
    out.minor_units_per_point = config.GetInt("program.minor_units_per_point");
    out.welcome_bonus = config.GetInt("program.welcome_bonus");
    out.default_country_code = config.GetString("program.default_country_code");
    out.default_language = config.GetString("program.default_language");
    out.default_hold_ttl_seconds = config.GetInt("holds.default_ttl_seconds");
    out.max_hold_ttl_seconds = config.GetInt("holds.max_ttl_seconds");
    out.tier_window_days = config.GetInt("program.tier_window_days");
    out.tier_review_days = config.GetInt("program.tier_review_days");
    out.tier_grace_days = config.GetInt("program.tier_grace_days");
    out.return_window_days = config.GetInt("program.return_window_days");
    out.return_window_seconds = config.GetInt("program.return_window_seconds");
    std::string policy = config.GetString("expiry.policy");
    if (policy == "never") {
      out.expiry = ExpiryPolicy::kNever;
    } else if (policy == "rolling") {
      out.expiry = ExpiryPolicy::kRolling;
    } else if (policy == "end_of_month") {
      out.expiry = ExpiryPolicy::kEndOfMonth;
    } else if (policy == "end_of_quarter") {
      out.expiry = ExpiryPolicy::kEndOfQuarter;
    } else if (policy == "end_of_year") {
      out.expiry = ExpiryPolicy::kEndOfYear;
    } else {
      return InvalidArgument(
          "expiry.policy: '" + policy +
          "' is not never, rolling, end_of_month, end_of_quarter or end_of_year");
    }
    out.expiry_days = config.GetInt("expiry.days");
    out.expiry_remind_days = config.GetInt("expiry.remind_days");

    if (YAML::Node tiers = config.GetNode("program.tiers"); tiers && tiers.IsSequence()) {
      out.tiers.clear();
      for (const auto& t : tiers) {
        OnlyFields(
            t, "program.tiers",
            {"name", "earn_rate_bp", "qualify_spend_minor", "qualify_purchases", "benefits"});
        TierRule rule;
        rule.name = t["name"].as<std::string>();
        rule.earn_rate_bp = t["earn_rate_bp"].as<int32_t>();
        rule.qualify_spend_minor = Field<int64_t>(t, "qualify_spend_minor", 0);
        rule.qualify_purchases = Field<int64_t>(t, "qualify_purchases", 0);
        if (t["benefits"]) rule.benefits = t["benefits"].as<std::vector<std::string>>();
        out.tiers.push_back(rule);
      }
    }
    if (YAML::Node partners = config.GetNode("program.partners");
        partners && partners.IsSequence()) {
      out.partners.clear();
      for (const auto& p : partners) {
        OnlyFields(p, "program.partners", {"id", "earn_rate_bp"});
        out.partners.push_back({p["id"].as<std::string>(), p["earn_rate_bp"].as<int32_t>()});
      }
    }
    if (YAML::Node acts = config.GetNode("program.activities"); acts && acts.IsSequence()) {
      out.activities.clear();
      for (const auto& a : acts) {
        OnlyFields(a, "program.activities", {"type", "points", "daily_cap", "once_per_object"});
        out.activities.push_back({a["type"].as<std::string>(), a["points"].as<int64_t>(),
                                  Field<int64_t>(a, "daily_cap", 0),
                                  Field<bool>(a, "once_per_object", false)});
      }
    }
    if (YAML::Node m = config.GetNode("program.milestones"); m && m.IsMap()) {
      OnlyFields(m, "program.milestones", {"purchases", "points", "bonus"});
      if (m["purchases"]) out.purchase_milestones = m["purchases"].as<std::vector<int64_t>>();
      if (m["points"]) out.points_milestones = m["points"].as<std::vector<int64_t>>();
      if (m["bonus"]) out.milestone_bonus = m["bonus"].as<std::map<std::string, int64_t>>();
    }
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
  if (out.tiers.empty()) return InvalidArgument("program.tiers: at least one tier is needed");
  for (size_t i = 0; i < out.tiers.size(); ++i) {
    const auto& tier = out.tiers[i];
    if (tier.name.empty()) return InvalidArgument("program.tiers: a tier has no name");
    if (tier.earn_rate_bp < 0 || tier.earn_rate_bp > 100000) {
      return InvalidArgument("program.tiers." + tier.name + ".earn_rate_bp: out of 0..100000");
    }
    if (i > 0 && tier.qualify_spend_minor == 0 && tier.qualify_purchases == 0) {
      return InvalidArgument("program.tiers." + tier.name +
                             ": a tier above the first needs a spend or purchases threshold");
    }
  }
  for (const auto& p : out.partners) {
    if (p.partner_id.empty() || p.earn_rate_bp < 0 || p.earn_rate_bp > 100000) {
      return InvalidArgument("program.partners: each needs an id and earn_rate_bp in 0..100000");
    }
  }
  if (out.minor_units_per_point <= 0) {
    return InvalidArgument("program.minor_units_per_point: must be positive");
  }
  if (out.welcome_bonus < 0) return InvalidArgument("program.welcome_bonus: must be >= 0");
  if (out.default_hold_ttl_seconds <= 0 ||
      out.default_hold_ttl_seconds > out.max_hold_ttl_seconds) {
    return InvalidArgument("holds.default_ttl_seconds: must be in 1..holds.max_ttl_seconds");
  }
  if (out.return_window_days < 0) {
    return InvalidArgument("program.return_window_days: must be >= 0");
  }
  auto member_cache_bytes = CacheBytes(config, "cache.members_mb");
  if (!member_cache_bytes.ok()) return member_cache_bytes.status();
  out.member_cache_bytes = *member_cache_bytes;
  if (out.tier_window_days <= 0 || out.tier_review_days <= 0 || out.tier_grace_days < 0) {
    return InvalidArgument("program.tier_window_days: window and review must be positive");
  }
  if (out.expiry == ExpiryPolicy::kRolling && out.expiry_days <= 0) {
    return InvalidArgument("expiry.days: must be positive for the rolling policy");
  }
  return out;
}

}  // namespace loyalty::accrual
