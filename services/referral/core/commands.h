// Typed input for referral: the Kafka adapter decodes each record of loyalty.events.v1 into
// one of these (services/referral/event_decoder.h); the core applies each and never sees
// bytes it has to parse. The source (topic, position, original bytes) is opaque to the
// flows: the batch stores its offset, and an undecodable record is dead-lettered with it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>

#include "common/input.h"
#include "loyalty/v1/events.pb.h"

namespace loyalty::referral {

// An event accrual (or another service) published; the qualification flow decides whether
// it concerns a referral.
struct EventCmd {
  v1::LoyaltyEvent event;
};
using Command = std::variant<EventCmd, Undecodable>;

using Input = Decoded<Command>;

using Decoder = DecoderOf<Command>;  // common/input.h

struct EventBatchResult {
  int64_t applied = 0;     // events of members referral follows
  int64_t ignored = 0;     // events of other members or kinds: nothing to do
  int64_t duplicates = 0;  // by offset or by event_id
  int64_t dead_lettered = 0;
};

}  // namespace loyalty::referral
