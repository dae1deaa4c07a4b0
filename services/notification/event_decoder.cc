#include "services/notification/event_decoder.h"

#include <google/protobuf/util/json_util.h>

namespace loyalty::notification {

Command DecodeEvent(const InputMessage& message) {
  EventCmd cmd;
  const std::string& value = message.value;
  if (!value.empty() && value[0] == '{') {
    auto status = google::protobuf::util::JsonStringToMessage(value, &cmd.event);
    if (!status.ok()) {
      return Undecodable{"undecodable", "not valid JSON for " + cmd.event.GetTypeName() + ": " +
                                            std::string(status.message())};
    }
    return cmd;
  }
  if (!cmd.event.ParseFromString(value)) {
    return Undecodable{"undecodable", "not a protobuf " + cmd.event.GetTypeName()};
  }
  return cmd;
}

Input DecodeInput(InputMessage message) {
  Command command = DecodeEvent(message);
  return Input{std::move(message), std::move(command)};
}

}  // namespace loyalty::notification
