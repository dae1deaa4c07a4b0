#include "services/accrual/core/accrual_config.h"

#include <stdexcept>

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

}  // namespace

StatusOr<AccrualConfig> AccrualConfig::FromConfig(const Config& config) {
  AccrualConfig out;
  try {
    out.currency = config.GetString("program.currency", out.currency);
    out.minor_units_per_point =
        config.GetInt("program.minor_units_per_point", out.minor_units_per_point);
    out.welcome_bonus = config.GetInt("program.welcome_bonus", out.welcome_bonus);
    out.default_country_code =
        config.GetString("program.default_country_code", out.default_country_code);
    out.default_language = config.GetString("program.default_language", out.default_language);
    out.default_hold_ttl_seconds =
        config.GetInt("holds.default_ttl_seconds", out.default_hold_ttl_seconds);
    out.max_hold_ttl_seconds = config.GetInt("holds.max_ttl_seconds", out.max_hold_ttl_seconds);
    out.tier_window_days = config.GetInt("program.tier_window_days", out.tier_window_days);
    out.tier_review_days = config.GetInt("program.tier_review_days", out.tier_review_days);
    out.tier_grace_days = config.GetInt("program.tier_grace_days", out.tier_grace_days);
    out.return_window_days = config.GetInt("program.return_window_days", out.return_window_days);
    out.return_window_seconds =
        config.GetInt("program.return_window_seconds", out.return_window_seconds);
    std::string policy = config.GetString("expiry.policy", "never");
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
    out.expiry_days = config.GetInt("expiry.days", out.expiry_days);
    out.expiry_remind_days = config.GetInt("expiry.remind_days", out.expiry_remind_days);

    if (YAML::Node tiers = config.GetNode("program.tiers"); tiers && tiers.IsSequence()) {
      out.tiers.clear();
      for (const auto& t : tiers) {
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
      for (const auto& p : partners) {
        out.partners.push_back({p["id"].as<std::string>(), p["earn_rate_bp"].as<int32_t>()});
      }
    }
    if (YAML::Node acts = config.GetNode("program.activities"); acts && acts.IsSequence()) {
      out.activities.clear();
      for (const auto& a : acts) {
        out.activities.push_back({a["type"].as<std::string>(), a["points"].as<int64_t>(),
                                  Field<int64_t>(a, "daily_cap", 0),
                                  Field<bool>(a, "once_per_object", false)});
      }
    }
    if (YAML::Node m = config.GetNode("program.milestones"); m && m.IsMap()) {
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
  if (out.tier_window_days <= 0 || out.tier_review_days <= 0 || out.tier_grace_days < 0) {
    return InvalidArgument("program.tier_window_days: window and review must be positive");
  }
  if (out.expiry == ExpiryPolicy::kRolling && out.expiry_days <= 0) {
    return InvalidArgument("expiry.days: must be positive for the rolling policy");
  }
  return out;
}

}  // namespace loyalty::accrual
