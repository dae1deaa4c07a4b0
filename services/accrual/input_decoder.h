// The Kafka adapter's half of accrual's input: each consumed record becomes a typed command
// (services/accrual/core/commands.h). Payloads are protobuf, or JSON when the value starts
// with '{' (for hand-made test input and kcat); what does not decode becomes Undecodable,
// which the core dead-letters with the reason.
#pragma once

#include "common/input.h"
#include "services/accrual/core/commands.h"

namespace loyalty::accrual {

// For AccrualCore::StageBatch, which decodes one record at a time.
Command DecodeCommand(const InputMessage& message);
// A record with its command, for callers that hold decoded input (tests).
Input DecodeInput(InputMessage message);

}  // namespace loyalty::accrual
