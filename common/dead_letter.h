// Dead-letter records: an input message that cannot be applied goes, with its original
// bytes, to "<topic>.dlq" through the outbox, in the same write as the offset that skips
// it. Headers: reason (for people), reason_kind (for metrics and tooling: undecodable,
// invalid, unknown_member, ...) and the source position.
#pragma once

#include <string_view>

#include "common/input.h"
#include "loyalty/v1/internal.pb.h"

namespace loyalty {

v1::internal::OutboxRecord DeadLetterRecord(const InputMessage& message, std::string_view kind,
                                            std::string_view reason);

}  // namespace loyalty
