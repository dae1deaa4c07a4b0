// gRPC bootstrap shared by every service: a server with health checking, reflection and
// per-method Prometheus metrics (the grpc-prometheus names), plus the process lifecycle
// helpers a main needs: shutdown signals and the ports file that tests discover services by.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>

#include "common/metrics.h"
#include "common/status.h"

namespace loyalty {

class GrpcServer {
 public:
  // Registers grpc_server_handled_total and grpc_server_handling_seconds in metrics, which
  // must outlive this server.
  explicit GrpcServer(Metrics& metrics);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Adds a service to serve; call before Start. The service must outlive this server.
  void AddService(grpc::Service* service);

  // Binds address ("host:port"; port 0 picks a free one), starts serving the added services
  // plus grpc.health.v1.Health and server reflection, and reports SERVING for "" and for each
  // added service's full name. Every unary method answers a request that does not decode
  // with INVALID_ARGUMENT ("request does not decode as loyalty.v1.X").
  // credentials: common/grpc_tls.h's ServerCredentials (insecure ones only in tests of the
  // server itself and where grpc.insecure is set).
  Status Start(const std::string& address, std::shared_ptr<grpc::ServerCredentials> credentials);

  // The bound port, or 0 before Start succeeded.
  int port() const { return port_; }
  // A channel to this server inside the process, past the port's credentials (the HTTP door,
  // common/http_door.h, which authorises each call itself). After Start.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Reports NOT_SERVING, then lets in-flight calls finish for up to grace before cancelling
  // them; connections without a call are closed at once, so an idle client channel does not
  // hold the stop. Safe to call more than once and from any thread; a no-op before Start.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // Blocks until the server has shut down; returns at once if it never started.
  void Wait();

  // The per-method metric families and their cached children; defined in the .cc.
  class RpcMetrics;

 private:
  std::unique_ptr<RpcMetrics> rpc_metrics_;  // Before server_: interceptors point into it.
  std::vector<grpc::Service*> services_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // guarded by shutdown_mu_
};

// Blocks SIGTERM and SIGINT in the calling thread. Call first in main, before any thread
// starts, so that every thread inherits the mask and WaitForShutdownSignal receives them.
void BlockShutdownSignals();

// Waits for SIGTERM or SIGINT (blocked by BlockShutdownSignals) and returns its number.
int WaitForShutdownSignal();

// Writes ports as a JSON object, e.g. {"grpc":50051,"metrics":9464}, to a temporary file next
// to path and renames it into place, so a reader never sees a partial file.
Status WritePortsFile(const std::string& path, const std::map<std::string, int>& ports);

}  // namespace loyalty
