#include "services/notification/event_decoder.h"

#include <google/protobuf/util/json_util.h>

#include "common/field_limits.h"

namespace loyalty::notification {

namespace {

// Enum values this build does not know may come from a newer producer: not checked.
Command Checked(EventCmd cmd) {
  if (Status s = CheckFieldLimits(cmd.event, {.enums = false}); !s.ok()) {
    return Undecodable{"invalid", s.message()};
  }
  return cmd;
}

}  // namespace

Command DecodeEvent(const InputMessage& message) {
  EventCmd cmd;
  const std::string& value = message.value;
  if (!value.empty() && value[0] == '{') {
    auto status = google::protobuf::util::JsonStringToMessage(value, &cmd.event);
    if (!status.ok()) {
      return Undecodable{"undecodable", "not valid JSON for " + cmd.event.GetTypeName() + ": " +
                                            Quote(std::string(status.message()))};
    }
    return Checked(std::move(cmd));
  }
  if (!cmd.event.ParseFromString(value)) {
    return Undecodable{"undecodable", "not a protobuf " + cmd.event.GetTypeName()};
  }
  return Checked(std::move(cmd));
}

Input DecodeInput(InputMessage message) {
  Command command = DecodeEvent(message);
  return Input{std::move(message), std::move(command)};
}

}  // namespace loyalty::notification
