// The Kafka adapter's half of referral's input: each record of loyalty.events.v1 becomes a
// typed command (services/referral/core/commands.h), a decoded LoyaltyEvent or, for bytes
// that are not one, Undecodable with the reason, which the core dead-letters.
#pragma once

#include "common/input.h"
#include "services/referral/core/commands.h"

namespace loyalty::referral {

// For ReferralCore::ApplyEvents, which decodes one record at a time.
Command DecodeEvent(const InputMessage& message);
// A record with its command, for callers that hold decoded input (tests).
Input DecodeInput(InputMessage message);

}  // namespace loyalty::referral
