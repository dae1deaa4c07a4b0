#include "common/input.h"

#include "common/key_codec.h"

namespace loyalty {

std::string OffsetKey(const TopicPartition& tp) {
  std::string key;
  keys::AppendString(key, tp.first);
  keys::AppendU64(key, static_cast<uint64_t>(tp.second));
  return key;
}

std::map<TopicPartition, int64_t> LoadStoredOffsets(const Store& store, std::string_view cf) {
  std::map<TopicPartition, int64_t> offsets;
  store.Scan(cf, "", "", [&](std::string_view key, std::string_view value) {
    size_t pos = 0;
    std::string topic;
    keys::ReadString(key, pos, topic);
    offsets[{topic, static_cast<int32_t>(keys::ReadU64(key, pos))}] = keys::ReadI64(value);
    return true;
  });
  return offsets;
}

}  // namespace loyalty
