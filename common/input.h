// Records read from the input topics, as the domain cores see them: the bytes, where they
// came from, and the stored offsets that say how far a service has applied each partition.
// No librdkafka type here, so that a core can take input without linking Kafka.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "common/store.h"

namespace loyalty {

using TopicPartition = std::pair<std::string, int32_t>;

// One consumed record. A core reads topic, key and value; partition and offset are its
// source position, stored with its effects and quoted in a dead-letter record.
struct InputMessage {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  int64_t timestamp_ms = 0;
};

// A record that could not become one of a core's commands (bytes that do not decode, a
// topic the service does not read): the core dead-letters it with the reason.
struct Undecodable {
  std::string kind;  // reason_kind of the dead letter
  std::string reason;
};

// A record with its decoded command, for callers that hold decoded input (tests).
template <typename Command>
struct Decoded {
  InputMessage source;
  Command command;
};

// An adapter's decoder, which a core calls for one record at a time while it applies a
// batch: a batch never holds more than one decoded command, so the allocator reuses the
// same memory for each (holding a whole batch decoded cost accrual 50% more CPU).
template <typename Command>
using DecoderOf = std::function<Command(const InputMessage&)>;

// The key under which a service stores the next offset to read of a partition, in the
// same write as the effects of the messages before it.
std::string OffsetKey(const TopicPartition& tp);

// The next offset to read of every partition, as stored under OffsetKey in column family cf.
std::map<TopicPartition, int64_t> LoadStoredOffsets(const Store& store, std::string_view cf);

}  // namespace loyalty
