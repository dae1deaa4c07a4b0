// The Kafka adapter's half of accrual's input: each consumed record becomes a typed command
// (services/accrual/core/commands.h). Payloads are protobuf, or JSON when the value starts
// with '{' (for hand-made test input and kcat); what does not decode becomes Undecodable,
// which the core dead-letters with the reason.
#pragma once

#include <vector>

#include "common/input.h"
#include "services/accrual/core/commands.h"

namespace loyalty::accrual {

Input DecodeInput(InputMessage message);
std::vector<Input> DecodeInputs(std::vector<InputMessage> messages);

}  // namespace loyalty::accrual
