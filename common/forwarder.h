// The server side of "calls reach the owner": an instance that receives a call for a member
// another instance owns (a caller behind a plain load balancer, a client with an old instance
// list) forwards it there and answers with the owner's answer. The call is applied only at
// the owner, under the original caller's principal (the grant travels with it,
// common/auth/authorizer.h), so its idempotency key means the same whichever instance a retry
// reaches. A forwarded call is never forwarded again: two instances that disagree on who owns
// a member answer FAILED_PRECONDITION rather than pass it round.
#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/auth/authorizer.h"
#include "common/owner_router.h"
#include "common/partitioning.h"

namespace loyalty {

// grpc_forwarded_calls_total{method, code}: calls this instance forwarded to their owner, by
// the owner's answer.
class ForwardMetrics {
 public:
  explicit ForwardMetrics(prometheus::Registry& registry)
      : family_(prometheus::BuildCounter()
                    .Name("grpc_forwarded_calls_total")
                    .Help("calls for members another instance owns, forwarded to the owner, by "
                          "the owner's answer")
                    .Register(registry)) {}
  void Count(std::string_view method, grpc::StatusCode code) {
    family_.Add({{"method", std::string(method)}, {"code", std::to_string(code)}}).Increment();
  }

 private:
  prometheus::Family<prometheus::Counter>& family_;
};

template <typename Service>
class Forwarder {
 public:
  using Stub = typename Service::Stub;

  // peers: the service's instances in index order (cluster.peers), empty when it is not
  // configured; then a call another instance owns is refused, naming the setting.
  Forwarder(Placement placement, const std::vector<std::string>& peers,
            const std::shared_ptr<grpc::ChannelCredentials>& credentials,
            prometheus::Registry& registry)
      : placement_(placement), metrics_(registry) {
    if (placement.ownership.instances > 1 && !peers.empty()) {
      router_ = std::make_unique<OwnerRouter<Service>>(peers, placement.partitions, credentials);
    }
  }

  const Placement& placement() const { return placement_; }
  bool Owns(std::string_view key) const { return placement_.OwnsKey(key); }

  // A blocking handler's forward: nullopt when this instance owns key (serve the call
  // here), else the owner's status, with its answer in response.
  template <typename Request, typename Response>
  std::optional<grpc::Status> Forward(const grpc::ServerContext& context, std::string_view method,
                                      std::string_view key,
                                      grpc::Status (Stub::*call)(grpc::ClientContext*,
                                                                 const Request&, Response*),
                                      const Request& request, Response* response) {
    if (Owns(key)) return std::nullopt;
    const int32_t owner = placement_.OwnerOfKey(key);
    if (std::optional<grpc::Status> refused = Refusal(context, owner)) return refused;
    grpc::ClientContext client;
    Prepare(context, method, client);
    grpc::Status status = (router_->At(owner).*call)(&client, request, response);
    metrics_.Count(method, status.error_code());
    return status;
  }

  // A callback handler's forward: false when this instance owns key (serve it here), else
  // done runs with the owner's status (its answer in response) on a gRPC thread.
  template <typename Request, typename Response, typename AsyncCall>
  bool ForwardAsync(const grpc::CallbackServerContext& context, std::string_view method,
                    std::string_view key, AsyncCall call, const Request* request,
                    Response* response, std::function<void(grpc::Status)> done) {
    if (Owns(key)) return false;
    const int32_t owner = placement_.OwnerOfKey(key);
    if (std::optional<grpc::Status> refused = Refusal(context, owner)) {
      done(*refused);
      return true;
    }
    auto client = std::make_shared<grpc::ClientContext>();
    Prepare(context, method, *client);
    call(router_->At(owner).async(), client.get(), request, response,
         [this, client, method = std::string(method), done = std::move(done)](grpc::Status s) {
           metrics_.Count(method, s.error_code());
           done(std::move(s));
         });
    return true;
  }

 private:
  // Why a call this instance does not own is not forwarded, if it is not.
  std::optional<grpc::Status> Refusal(const grpc::ServerContextBase& context, int32_t owner) const {
    if (auth::ForwardedByPeer(context)) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "member_id: forwarded here but owned by instance " +
                              std::to_string(owner) + " of " +
                              std::to_string(placement_.ownership.instances) +
                              "; the instances disagree on cluster.instances or the partitions");
    }
    if (router_ == nullptr) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "member_id: owned by instance " + std::to_string(owner) +
                              " and cluster.peers is not set here to forward the call");
    }
    return std::nullopt;
  }

  // The caller's grant and deadline go with the call.
  void Prepare(const grpc::ServerContextBase& context, std::string_view method,
               grpc::ClientContext& client) const {
    for (auto& [key, value] : auth::GrantMetadata(auth::CallerOf(context, method))) {
      client.AddMetadata(key, value);
    }
    client.AddMetadata(auth::kForwardedFromHeader, std::to_string(placement_.ownership.index));
    auto deadline = context.deadline();
    if (deadline != std::chrono::system_clock::time_point::max()) {
      client.set_deadline(deadline);
    } else {
      client.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    }
  }

  const Placement placement_;
  ForwardMetrics metrics_;
  std::unique_ptr<OwnerRouter<Service>> router_;
};

}  // namespace loyalty
