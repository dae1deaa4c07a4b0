// A member's referral statistics, as a pure summary of the referrals it made and the one it
// joined with: counts by status, rejections by rule, and the bonus points it kept.
#pragma once

#include <string>
#include <vector>

#include "loyalty/v1/referral.pb.h"
#include "services/referral/core/types.h"

namespace loyalty::referral {

// The points a side of a referral kept: its bonus if paid, less its reversal if done.
Points NetPoints(const v1::ReferralAward& side);

// made: the member's referrals as referrer; own: the referral it joined with, or null.
v1::ReferralStats Summarize(const std::string& member_id,
                            const std::vector<const v1::Referral*>& made, const v1::Referral* own);

}  // namespace loyalty::referral
