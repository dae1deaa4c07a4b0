#include "services/accrual/input_decoder.h"

#include <google/protobuf/util/json_util.h>

#include "common/field_limits.h"

namespace loyalty::accrual {
namespace {

template <typename Message>
Status Decode(const std::string& value, Message* message) {
  if (!value.empty() && value[0] == '{') {
    auto status = google::protobuf::util::JsonStringToMessage(value, message);
    if (!status.ok()) {
      return InvalidArgument("not valid JSON for " + message->GetTypeName() + ": " +
                             Quote(std::string(status.message())));
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
  if (Status s = CheckFieldLimits(cmd.*field); !s.ok()) return Undecodable{"invalid", s.message()};
  return cmd;
}

}  // namespace

Command DecodeCommand(const InputMessage& message) {
  if (message.topic == kPurchasesTopic) return DecodeAs(message.value, &PurchaseCmd::purchase);
  if (message.topic == kRefundsTopic) return DecodeAs(message.value, &RefundCmd::refund);
  if (message.topic == kActivitiesTopic) return DecodeAs(message.value, &ActivityCmd::activity);
  return Undecodable{"topic", "topic: accrual does not read " + message.topic};
}

Input DecodeInput(InputMessage message) {
  Command command = DecodeCommand(message);
  return Input{std::move(message), std::move(command)};
}

}  // namespace loyalty::accrual
