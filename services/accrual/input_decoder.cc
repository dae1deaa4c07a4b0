#include "services/accrual/input_decoder.h"

#include <google/protobuf/util/json_util.h>

namespace loyalty::accrual {
namespace {

template <typename Message>
Status Decode(const std::string& value, Message* message) {
  if (!value.empty() && value[0] == '{') {
    auto status = google::protobuf::util::JsonStringToMessage(value, message);
    if (!status.ok()) {
      return InvalidArgument("not valid JSON for " + message->GetTypeName() + ": " +
                             std::string(status.message()));
    }
    return Status::Ok();
  }
  if (!message->ParseFromString(value)) {
    return InvalidArgument("not a protobuf " + message->GetTypeName());
  }
  return Status::Ok();
}

template <typename Cmd, typename Event>
Command DecodeAs(const std::string& value, Event Cmd::*field) {
  Cmd cmd;
  if (Status s = Decode(value, &(cmd.*field)); !s.ok())
    return Undecodable{"undecodable", s.message()};
  return cmd;
}

}  // namespace

Input DecodeInput(InputMessage message) {
  Command command;
  if (message.topic == kPurchasesTopic) {
    command = DecodeAs(message.value, &PurchaseCmd::purchase);
  } else if (message.topic == kRefundsTopic) {
    command = DecodeAs(message.value, &RefundCmd::refund);
  } else if (message.topic == kActivitiesTopic) {
    command = DecodeAs(message.value, &ActivityCmd::activity);
  } else {
    command = Undecodable{"topic", "topic: accrual does not read " + message.topic};
  }
  return Input{std::move(message), std::move(command)};
}

std::vector<Input> DecodeInputs(std::vector<InputMessage> messages) {
  std::vector<Input> inputs;
  inputs.reserve(messages.size());
  for (auto& message : messages) inputs.push_back(DecodeInput(std::move(message)));
  return inputs;
}

}  // namespace loyalty::accrual
