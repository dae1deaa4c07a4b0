#include "services/referral/event_decoder.h"

namespace loyalty::referral {

Command DecodeEvent(const InputMessage& message) {
  EventCmd cmd;
  if (!cmd.event.ParseFromString(message.value)) {
    return Undecodable{"undecodable", "value: not a protobuf loyalty.v1.LoyaltyEvent"};
  }
  return cmd;
}

Input DecodeInput(InputMessage message) {
  Command command = DecodeEvent(message);
  return Input{std::move(message), std::move(command)};
}

}  // namespace loyalty::referral
