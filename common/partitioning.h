// Where a member's data lives: the Kafka partition of its key, as every producer computes
// it, and the instance of a service that owns that partition. The one definition the
// services, the router and the tools share (docs/decisions.md, "Ownership by partition").
#pragma once

#include <cstdint>
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

}  // namespace loyalty
