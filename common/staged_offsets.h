// The next offset to read of each input partition, as a core stages it: a record below it
// was applied already (the broker sent it again after a restart or a rebalance) and is
// skipped; an applied record moves it on; the partitions a batch touched are written in the
// same unit of work as the batch's effects, so offsets and effects are durable together.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string_view>

#include "common/input.h"
#include "common/key_codec.h"
#include "common/unit_of_work.h"

namespace loyalty {

class StagedOffsets {
 public:
  // The offsets stored under OffsetKey in column family cf.
  StagedOffsets(const Store& store, std::string_view cf)
      : cf_(cf), next_(LoadStoredOffsets(store, cf)) {}

  bool AlreadyApplied(const InputMessage& record) const {
    auto it = next_.find({record.topic, record.partition});
    return it != next_.end() && record.offset < it->second;
  }
  void Advance(const InputMessage& record) {
    TopicPartition tp{record.topic, record.partition};
    next_[tp] = record.offset + 1;
    touched_.insert(std::move(tp));
  }
  // Stages the offsets of the partitions advanced since the last call.
  void WriteTouched(UnitOfWork& work) {
    for (const auto& tp : touched_) work.Put(cf_, OffsetKey(tp), keys::EncodeI64(next_[tp]));
    touched_.clear();
  }
  const std::map<TopicPartition, int64_t>& next() const { return next_; }

 private:
  std::string_view cf_;  // a column family name constant
  std::map<TopicPartition, int64_t> next_;
  std::set<TopicPartition> touched_;
};

}  // namespace loyalty
