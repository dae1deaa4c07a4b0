// Where a member's data lives: the Kafka partition of its key, as every producer computes
// it, and the instance of a service that owns that partition. The one definition the
// services, the router and the tools share (docs/decisions.md, "Ownership by partition").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace loyalty {

// Kafka's murmur2 hash of a key: the Java client's default partitioner and librdkafka's
// "murmur2_random" for keyed messages (seed 0x9747b28c).
uint32_t Murmur2(std::string_view key);

// The partition of key among `partitions` (> 0): the hash with its sign bit cleared, modulo
// the count, exactly as the Java producer's default partitioner.
int32_t PartitionOf(std::string_view key, int32_t partitions);

// The instance (0..instances-1) that owns a partition: partition mod instances.
int32_t OwnerOf(int32_t partition, int32_t instances);

// The partitions one instance of a service owns: those whose number mod instances is its
// index (configuration cluster.instances and cluster.index: a StatefulSet's ordinal).
struct PartitionOwnership {
  int32_t instances = 1;
  int32_t index = 0;
  bool Owns(int32_t partition) const { return OwnerOf(partition, instances) == index; }
};

// Where this instance sits: the partitions it owns and the count of partitions of the
// member-keyed topics (the input topic's, read from Kafka at start).
struct Placement {
  int32_t partitions = 0;  // 0: not known yet; then every key counts as owned
  PartitionOwnership ownership;

  bool OwnsKey(std::string_view key) const {
    return partitions == 0 || ownership.Owns(PartitionOf(key, partitions));
  }
  // The instance that owns key (this one's index while partitions is 0).
  int32_t OwnerOfKey(std::string_view key) const {
    return partitions == 0 ? ownership.index
                           : OwnerOf(PartitionOf(key, partitions), ownership.instances);
  }
};

// A fresh id (from make, called again as needed) for which accept holds: new ids placed
// where they belong, by drawing random ids until one hashes right. accept must hold for a
// fair share of ids (1 in partitions at worst), so that few draws are needed.
std::string DrawIdWhere(const std::function<std::string()>& make,
                        const std::function<bool(std::string_view)>& accept);
// An id that routes with anchor: murmur2 puts both in the same partition, so that a call
// naming only the id (a hold's capture) reaches the anchor's (the member's) owner.
std::string DrawIdBeside(std::string_view anchor, int32_t partitions,
                         const std::function<std::string()>& make);

}  // namespace loyalty
