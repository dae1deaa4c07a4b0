#include "services/referral/event_decoder.h"

#include "common/field_limits.h"

namespace loyalty::referral {

Command DecodeEvent(const InputMessage& message) {
  EventCmd cmd;
  if (!cmd.event.ParseFromString(message.value)) {
    return Undecodable{"undecodable", "value: not a protobuf loyalty.v1.LoyaltyEvent"};
  }
  // Enum values this build does not know may come from a newer producer: not checked.
  if (Status s = CheckFieldLimits(cmd.event, {.enums = false}); !s.ok()) {
    return Undecodable{"invalid", s.message()};
  }
  return cmd;
}

Input DecodeInput(InputMessage message) {
  Command command = DecodeEvent(message);
  return Input{std::move(message), std::move(command)};
}

}  // namespace loyalty::referral
