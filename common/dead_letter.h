// Dead-letter records: an input message that cannot be applied goes, with its original
// bytes, to "<topic>.dlq" through the outbox, in the same write as the offset that skips
// it. Headers: reason (for people), reason_kind (for metrics and tooling: undecodable,
// invalid, unknown_member, ...) and the source position.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/input.h"
#include "common/outbox.h"
#include "common/status.h"
#include "loyalty/v1/internal.pb.h"

namespace loyalty {

v1::internal::OutboxRecord DeadLetterRecord(const InputMessage& message, std::string_view kind,
                                            std::string_view reason);

}  // namespace loyalty

namespace loyalty {

// Outbox dead letters: an outbox record the broker refused for good (too large, invalid:
// IsPermanentRecordError in common/kafka.h) is moved by the relay to a key after
// kOutboxDeadLetterPrefix in the outbox column family, in the write that deletes the record,
// so that the member's later events go on. It is kept as an OutboxRecord: the topic, key and
// headers of the original, the first kDeadLetterValuePrefix bytes of its value, and headers
// dead_letter.{reason, error, at_ms, value_size, outbox_key}. `loyaltyctl outbox
// dead-letters` lists them.
inline constexpr size_t kDeadLetterValuePrefix = 1024;

// Keys sort by time, then by the record's outbox key.
std::string OutboxDeadLetterKey(int64_t at_ms, std::string_view outbox_key);
v1::internal::OutboxRecord OutboxDeadLetter(const v1::internal::OutboxRecord& record,
                                            std::string_view outbox_key, std::string_view reason,
                                            std::string_view error, int64_t at_ms);

// Up to limit dead letters of the outbox in the store at data_dir, oldest first. Opens a
// RocksDB secondary instance, so it works while the service runs (and changes nothing).
StatusOr<std::vector<v1::internal::OutboxRecord>> ReadOutboxDeadLetters(const std::string& data_dir,
                                                                        size_t limit);

}  // namespace loyalty
