// The transactional outbox: a service adds the messages it must publish to the same staged
// write as the state change that caused them; the relay publishes them in order with the
// idempotent producer and deletes each one only after the broker acknowledged it. A crash
// can therefore publish a message twice (consumers dedupe by event_id), never lose one.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "common/store.h"
#include "loyalty/v1/internal.pb.h"

namespace loyalty {

inline constexpr char kOutboxCf[] = "outbox";
// Records are keyed by 8-byte big-endian numbers; keys from this prefix on (after every
// record) hold the relay's dead letters (common/dead_letter.h), which are never sent.
inline constexpr std::string_view kOutboxDeadLetterPrefix =
    "\xff"
    "dead/";

class Outbox {
 public:
  // Continues the key sequence after the last record left in the store.
  explicit Outbox(Store& store);

  // Call inside Store::Stage: the staging order is the publishing order.
  void Add(StagedWrite& write, const loyalty::v1::internal::OutboxRecord& record);
  // The key number the next record gets (keys are consecutive numbers).
  uint64_t NextKey() const { return next_key_; }

 private:
  std::atomic<uint64_t> next_key_{0};
};

}  // namespace loyalty
