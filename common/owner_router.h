// The client side of "calls reach the owner": a service that runs as several instances
// keeps each member on the instance that owns the member's partition (common/partitioning.h);
// a client keeps one channel per instance and sends a member's calls to its owner, so that no
// call needs the extra hop of a forward (docs/decisions.md, "Calls reach the owner").
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/check.h"
#include "common/partitioning.h"

namespace loyalty {

// "a:1,b:2" -> {"a:1", "b:2"}: a service's instances in index order (cluster.index); spaces
// around the commas are dropped, empty entries too.
std::vector<std::string> SplitAddresses(std::string_view list);

// A channel to one instance, reconnecting quickly after it restarts: gRPC's default backoff
// grows to two minutes, during which sagas and awards would wait for a service that is back.
std::shared_ptr<grpc::Channel> ServiceChannel(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials);

// One stub per instance of Service (a generated gRPC service class), and the one to use for a
// routing key: a member id, or an id drawn beside its member's (a hold id).
template <typename Service>
class OwnerRouter {
 public:
  using Stub = typename Service::Stub;

  // addresses: the instances in index order, at least one; partitions: the member-keyed
  // topics' partition count, > 0 when there are two or more instances.
  OwnerRouter(const std::vector<std::string>& addresses, int32_t partitions,
              const std::shared_ptr<grpc::ChannelCredentials>& credentials)
      : partitions_(partitions) {
    LOYALTY_CHECK(!addresses.empty(), "a router has an instance to call");
    LOYALTY_CHECK(addresses.size() == 1 || partitions > 0,
                  "several instances are routed to by partition");
    for (const std::string& address : addresses) {
      stubs_.push_back(Service::NewStub(ServiceChannel(address, credentials)));
    }
  }

  int32_t instances() const { return static_cast<int32_t>(stubs_.size()); }
  // The instance that owns key.
  int32_t InstanceOf(std::string_view key) const {
    if (stubs_.size() == 1) return 0;
    return OwnerOf(PartitionOf(key, partitions_), instances());
  }
  Stub& For(std::string_view key) { return *stubs_[InstanceOf(key)]; }
  Stub& At(int32_t instance) { return *stubs_.at(instance); }

 private:
  int32_t partitions_;
  std::vector<std::unique_ptr<Stub>> stubs_;
};

}  // namespace loyalty
