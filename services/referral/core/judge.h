// The anti-fraud judgement, as pure decisions over what the caller looked up: whether an
// application is accepted, held for an operator or rejected (self-referral, late
// application, cycle, referrer cap), whether a referrer's recent purchase makes the
// invitee's first purchase suspicious (same store), and the cycle walk over "referred by"
// links. Nothing here reads the store or the clock.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/referral.pb.h"
#include "services/referral/core/referral_config.h"
#include "services/referral/core/types.h"

namespace loyalty::referral {

inline constexpr int kMaxCycleDepth = 64;

// What the rules make of an application: PENDING (accepted), HELD or REJECTED, with the rule
// that decided (reason) and what it saw (detail).
struct Verdict {
  v1::ReferralStatus status = v1::REFERRAL_STATUS_PENDING;
  std::string reason, detail;
};

struct Application {
  const v1::Member& invitee;  // as accrual has it: contacts, enrolment time
  const v1::Member& referrer;
  TimeMs now;
  bool cycle = false;  // the referrer was referred by the invitee, directly or not
  // Referral's record of the referrer (its recent applications, for the cap); null if none.
  const MemberState* referrer_state = nullptr;
};

// Every rule is looked at; a rejection wins over a hold, and the first rule that fired with
// the winning action names the verdict.
Verdict Judge(const Application& application, const ReferralConfig& config);

// The referrer of member_id's referral unless it was rejected, or "" if it has none.
using ReferrerOf = std::function<std::string(const std::string& member_id)>;
// Follows "referred by" links up from `from` (at most kMaxCycleDepth); true if they reach
// target.
bool ReachesInCycle(const std::string& from, const std::string& target,
                    const ReferrerOf& referrer_of);

// The same-store rule: the detail to hold or reject with if the referrer bought at store_id
// within config.same_store_minutes of at, else nothing.
std::optional<std::string> SameStoreHit(const MemberState& referrer, const std::string& store_id,
                                        TimeMs at, const ReferralConfig& config);

}  // namespace loyalty::referral
