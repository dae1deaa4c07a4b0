// Typed input for notification: the Kafka adapter decodes each consumed record of
// loyalty.events.v1 into one of these (services/notification/event_decoder.h); the core
// applies each through the event intake and never parses bytes itself. The source (topic,
// position, original bytes) is opaque to the intake: the batch stores its offset, and a
// rejected record is dead-lettered with it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <variant>

#include "common/input.h"
#include "loyalty/v1/events.pb.h"

namespace loyalty::notification {

// A decoded loyalty event (still to be checked: it needs an event id and a member id).
struct EventCmd {
  v1::LoyaltyEvent event;
};
using Command = std::variant<EventCmd, Undecodable>;

using Input = Decoded<Command>;

using Decoder = DecoderOf<Command>;  // common/input.h

// What one batch of events did, for metrics and tests.
struct BatchResult {
  int64_t events = 0;
  int64_t duplicates = 0;
  int64_t dead_lettered = 0;                                            // undecodable or invalid
  std::map<std::pair<std::string, std::string>, int64_t> dead_letters;  // (topic, reason kind)
  int64_t unmapped = 0;  // events that tell the member nothing
  int64_t skipped = 0;   // no preferences or channels, opted out, kind disabled
  int64_t digested = 0;  // over the daily cap
  std::map<std::pair<std::string, std::string>, int64_t> queued;  // (kind, channel)
};

}  // namespace loyalty::notification
