#include "common/dead_letter.h"

#include <string>

namespace loyalty {

v1::internal::OutboxRecord DeadLetterRecord(const InputMessage& message, std::string_view kind,
                                            std::string_view reason) {
  v1::internal::OutboxRecord record;
  record.set_topic(message.topic + ".dlq");
  record.set_key(message.key);
  record.set_value(message.value);
  auto& headers = *record.mutable_headers();
  headers["reason"] = std::string(reason);
  headers["reason_kind"] = std::string(kind);
  headers["source_topic"] = message.topic;
  headers["source_partition"] = std::to_string(message.partition);
  headers["source_offset"] = std::to_string(message.offset);
  return record;
}

}  // namespace loyalty
