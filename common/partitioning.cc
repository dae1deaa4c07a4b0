#include "common/partitioning.h"

#include "common/check.h"

namespace loyalty {

uint32_t Murmur2(std::string_view key) {
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  size_t length = key.size();
  uint32_t h = kSeed ^ static_cast<uint32_t>(length);
  // Four bytes at a time, little-endian, as Kafka's Utils.murmur2 reads them.
  while (length >= 4) {
    uint32_t k = static_cast<uint32_t>(data[0]) | static_cast<uint32_t>(data[1]) << 8 |
                 static_cast<uint32_t>(data[2]) << 16 | static_cast<uint32_t>(data[3]) << 24;
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
    data += 4;
    length -= 4;
  }
  switch (length) {
    case 3:
      h ^= static_cast<uint32_t>(data[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(data[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(data[0]);
      h *= kM;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return h;
}

int32_t PartitionOf(std::string_view key, int32_t partitions) {
  LOYALTY_CHECK(partitions > 0, "a topic has at least one partition");
  return static_cast<int32_t>((Murmur2(key) & 0x7fffffffU) % static_cast<uint32_t>(partitions));
}

int32_t OwnerOf(int32_t partition, int32_t instances) {
  LOYALTY_CHECK(instances > 0 && partition >= 0, "an owner of a partition among instances");
  return partition % instances;
}

std::string DrawIdWhere(const std::function<std::string()>& make,
                        const std::function<bool(std::string_view)>& accept) {
  // 1 in 1024 partitions per draw: a million draws fail with probability e^-976.
  constexpr int kMaxDraws = 1'000'000;
  for (int draw = 0; draw < kMaxDraws; ++draw) {
    std::string id = make();
    if (accept(id)) return id;
  }
  LOYALTY_CHECK(false, "an id is drawn that hashes where it must");
  return {};
}

std::string DrawIdBeside(std::string_view anchor, int32_t partitions,
                         const std::function<std::string()>& make) {
  if (partitions <= 1) return make();
  const int32_t partition = PartitionOf(anchor, partitions);
  return DrawIdWhere(make,
                     [&](std::string_view id) { return PartitionOf(id, partitions) == partition; });
}

}  // namespace loyalty
