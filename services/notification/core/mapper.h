// Turns a domain event into the notification it causes (if any): its kind, whether it is
// transactional (voucher codes: ignores quiet hours and the daily cap) and the template
// variables, with plural words and dates in the member's language and time zone.
#pragma once

#include <optional>
#include <string>

#include "loyalty/v1/events.pb.h"
#include "services/notification/core/local_zone.h"
#include "services/notification/core/templates.h"

namespace loyalty::notification {

struct Mapped {
  std::string kind;
  bool transactional = false;
  Vars vars;
};

// Events that tell the member nothing new (holds, adjustments, the welcome award that
// follows the welcome message, referral awards that follow referral_rewarded) map to none.
// A purchase whose points went to pending (breakdown.pending) or all to debt is a
// purchase_thanks; one that credited spendable points is points_earned.
std::optional<Mapped> MapEvent(const v1::LoyaltyEvent& event, const std::string& language,
                               const LocalZone& zone);

}  // namespace loyalty::notification
