#include "services/referral/core/referral_config.h"

#include <stdexcept>

#include "common/cache_config.h"

namespace loyalty::referral {
namespace {

StatusOr<RuleAction> ParseAction(const Config& config, const std::string& key) {
  std::string value = config.GetString(key);
  if (value == "off") return RuleAction::kOff;
  if (value == "hold") return RuleAction::kHold;
  if (value == "reject") return RuleAction::kReject;
  return InvalidArgument(key + ": must be off, hold or reject, not '" + value + "'");
}

}  // namespace

const char* RuleActionName(RuleAction action) {
  switch (action) {
    case RuleAction::kOff:
      return "off";
    case RuleAction::kHold:
      return "hold";
    case RuleAction::kReject:
      return "reject";
  }
  return "off";
}

ConfigKeys ReferralConfig::Keys() {
  const ReferralConfig d;
  const std::string actions = " (off | hold | reject)";
  return {
      IntKey("referral.referrer_bonus", d.referrer_bonus, "points to the referrer"),
      IntKey("referral.invitee_bonus", d.invitee_bonus, "points to the invitee (two-sided)"),
      BoolKey("referral.two_sided", d.two_sided, "false: only the referrer is rewarded"),
      IntKey("referral.min_purchase_minor", d.min_purchase_minor,
             "the qualifying purchase is at least this amount (minor units)"),
      IntKey("referral.qualify_within_days", d.qualify_within_days,
             "the invitee's qualifying purchase must come this soon after applying the code"),
      IntKey("referral.return_window_days", d.return_window_days,
             "the bonus is paid once the purchase can no longer be returned, at most this late"),
      IntKey("referral.apply_within_days", d.apply_within_days,
             "a code must be applied this soon after the invitee enrolled"),
      IntKey("referral.apply_within_seconds", d.apply_within_seconds,
             "the same in seconds, for short windows in tests; wins if set"),
      IntKey("referral.cap_count", d.cap_count, "referrals per referrer within cap_period_days"),
      IntKey("referral.cap_period_days", d.cap_period_days, "the period of referral.cap_count"),
      IntKey("referral.same_store_minutes", d.same_store_minutes,
             "referrer and invitee buying in the same store this close together is suspect"),
      StringKey("referral.rules.self_referral", RuleActionName(d.self_referral),
                "same member, phone or e-mail" + actions),
      StringKey("referral.rules.late_application", RuleActionName(d.late_application),
                "code applied after apply_within_days" + actions),
      StringKey("referral.rules.cycle", RuleActionName(d.cycle),
                "A referred by B, then B by A, any length" + actions),
      StringKey("referral.rules.referrer_cap", RuleActionName(d.referrer_cap),
                "more than cap_count referrals in cap_period_days" + actions),
      StringKey("referral.rules.same_store", RuleActionName(d.same_store),
                "same store within same_store_minutes" + actions),
      CacheKey("cache.members_mb", d.member_cache_bytes >> 20, "referral's member records"),
      CacheKey("cache.referrals_mb", d.referral_cache_bytes >> 20, "referral records"),
  };
}

StatusOr<ReferralConfig> ReferralConfig::FromConfig(const Config& in) {
  Config config = in;
  config.Declare(Keys());
  ReferralConfig out;
  try {
    out.referrer_bonus = config.GetInt("referral.referrer_bonus");
    out.invitee_bonus = config.GetInt("referral.invitee_bonus");
    out.two_sided = config.GetBool("referral.two_sided");
    out.min_purchase_minor = config.GetInt("referral.min_purchase_minor");
    out.qualify_within_days = config.GetInt("referral.qualify_within_days");
    out.return_window_days = config.GetInt("referral.return_window_days");
    out.apply_within_days = config.GetInt("referral.apply_within_days");
    out.apply_within_seconds = config.GetInt("referral.apply_within_seconds");
    out.cap_count = config.GetInt("referral.cap_count");
    out.cap_period_days = config.GetInt("referral.cap_period_days");
    out.same_store_minutes = config.GetInt("referral.same_store_minutes");
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
  struct Rule {
    const char* key;
    RuleAction* action;
  };
  for (Rule rule : {Rule{"referral.rules.self_referral", &out.self_referral},
                    Rule{"referral.rules.late_application", &out.late_application},
                    Rule{"referral.rules.cycle", &out.cycle},
                    Rule{"referral.rules.referrer_cap", &out.referrer_cap},
                    Rule{"referral.rules.same_store", &out.same_store}}) {
    auto action = ParseAction(config, rule.key);
    if (!action.ok()) return action.status();
    *rule.action = *action;
  }
  if (out.referrer_bonus <= 0) return InvalidArgument("referral.referrer_bonus: must be > 0");
  if (out.invitee_bonus < 0) return InvalidArgument("referral.invitee_bonus: must be >= 0");
  if (out.min_purchase_minor < 0) {
    return InvalidArgument("referral.min_purchase_minor: must be >= 0");
  }
  for (auto [key, value] : {std::pair{"referral.qualify_within_days", out.qualify_within_days},
                            std::pair{"referral.return_window_days", out.return_window_days},
                            std::pair{"referral.apply_within_days", out.apply_within_days},
                            std::pair{"referral.cap_period_days", out.cap_period_days},
                            std::pair{"referral.same_store_minutes", out.same_store_minutes}}) {
    if (value <= 0 || value > 100 * 365 * 24 * 60) {
      return InvalidArgument(std::string(key) + ": must be positive");
    }
  }
  if (out.apply_within_seconds < 0 || out.apply_within_seconds > int64_t{100} * 365 * 86'400) {
    return InvalidArgument("referral.apply_within_seconds: must be >= 0 (0: use the days)");
  }
  if (out.cap_count <= 0) return InvalidArgument("referral.cap_count: must be > 0");
  for (auto [key, bytes] : {std::pair{"cache.members_mb", &out.member_cache_bytes},
                            std::pair{"cache.referrals_mb", &out.referral_cache_bytes}}) {
    auto budget = CacheBytes(config, key);
    if (!budget.ok()) return budget.status();
    *bytes = *budget;
  }
  return out;
}

}  // namespace loyalty::referral
