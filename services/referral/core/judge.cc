#include "services/referral/core/judge.h"

#include <algorithm>
#include <cstdlib>

#include "common/clock.h"
#include "services/referral/core/codes.h"

namespace loyalty::referral {
namespace {

// Which self-referral the invitee is, if any: the same id, phone or e-mail.
const char* SelfReferral(const v1::Member& invitee, const v1::Member& referrer) {
  if (invitee.member_id() == referrer.member_id()) return "the code is the invitee's own";
  if (!invitee.phone().empty() &&
      ComparablePhone(invitee.phone()) == ComparablePhone(referrer.phone())) {
    return "invitee and referrer share a phone number";
  }
  if (!invitee.email().empty() &&
      ComparableEmail(invitee.email()) == ComparableEmail(referrer.email())) {
    return "invitee and referrer share an e-mail address";
  }
  return nullptr;
}

std::string ApplyWindow(const ReferralConfig& config) {
  return config.apply_within_seconds > 0 ? std::to_string(config.apply_within_seconds) + " seconds"
                                         : std::to_string(config.apply_within_days) + " days";
}

}  // namespace

Verdict Judge(const Application& application, const ReferralConfig& config) {
  Verdict verdict;
  auto fire = [&](RuleAction action, const char* reason, std::string detail) {
    if (action == RuleAction::kOff || verdict.status == v1::REFERRAL_STATUS_REJECTED) return;
    if (action == RuleAction::kReject) {
      verdict = {v1::REFERRAL_STATUS_REJECTED, reason, std::move(detail)};
    } else if (verdict.status != v1::REFERRAL_STATUS_HELD) {
      verdict = {v1::REFERRAL_STATUS_HELD, reason, std::move(detail)};
    }
  };
  const v1::Member& invitee = application.invitee;
  const int64_t now = application.now.value();
  if (const char* self = SelfReferral(invitee, application.referrer); self != nullptr) {
    fire(config.self_referral, "self_referral", self);
  }
  if (now - invitee.enrolled_at_ms() > config.ApplyWithinMs()) {
    fire(config.late_application, "late_application",
         "code applied more than " + ApplyWindow(config) + " after enrolment");
  }
  if (application.cycle) {
    fire(config.cycle, "cycle", "the referrer was referred by the invitee (directly or not)");
  }
  if (const MemberState* r = application.referrer_state; r != nullptr) {
    int64_t since = now - config.cap_period_days * kDayMs;
    int64_t recent = std::count_if(r->recent_applied_ms().begin(), r->recent_applied_ms().end(),
                                   [&](int64_t at) { return at > since; });
    if (recent >= config.cap_count) {
      fire(config.referrer_cap, "referrer_cap",
           "referrer already has " + std::to_string(recent) + " referrals in " +
               std::to_string(config.cap_period_days) + " days");
    }
  }
  return verdict;
}

bool ReachesInCycle(const std::string& from, const std::string& target,
                    const ReferrerOf& referrer_of) {
  std::string current = from;
  for (int depth = 0; depth < kMaxCycleDepth; ++depth) {
    std::string referrer = referrer_of(current);
    if (referrer.empty()) return false;
    if (referrer == target) return true;
    current = std::move(referrer);
  }
  return false;
}

std::optional<std::string> SameStoreHit(const MemberState& referrer, const std::string& store_id,
                                        TimeMs at, const ReferralConfig& config) {
  const int64_t window_ms = config.same_store_minutes * kMinuteMs;
  for (const auto& p : referrer.recent_purchases()) {
    if (p.store_id() == store_id && std::abs(p.at_ms() - at.value()) <= window_ms) {
      return "first purchase at " + p.store_id() + " within " +
             std::to_string(config.same_store_minutes) + " minutes of a purchase by the referrer";
    }
  }
  return std::nullopt;
}

}  // namespace loyalty::referral
