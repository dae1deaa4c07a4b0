// The Kafka adapter's half of notification's input: each consumed record of
// loyalty.events.v1 becomes a typed command (services/notification/core/commands.h).
// Payloads are protobuf, or JSON when the value starts with '{' (hand-made test input and
// kcat); what does not decode becomes Undecodable, which the core dead-letters with the
// reason.
#pragma once

#include "common/input.h"
#include "services/notification/core/commands.h"

namespace loyalty::notification {

// For NotificationCore::ApplyBatch, which decodes one record at a time.
Command DecodeEvent(const InputMessage& message);
// A record with its command, for callers that hold decoded input (tests).
Input DecodeInput(InputMessage message);

}  // namespace loyalty::notification
