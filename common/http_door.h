// The HTTP/JSON door: every unary gRPC method of a service also answers over HTTP/1.1 as
// `POST /loyalty.v1.<Service>/<Method>` with a JSON body (the Connect protocol's unary form,
// so connect clients and plain curl work). Same TLS and client certificates as the gRPC port
// (common/grpc_tls.h), same identity and policy (auth::Authorize: the certificate's principal
// or `authorization: Bearer <API key>`), same handlers and metrics: the door calls the service
// through the gRPC server's in-process channel, passing the caller's grant (auth::DoorMetadata).
//
// Errors are Connect's: an HTTP status for the code and {"code": "invalid_argument",
// "message": "..."}; a body that is not JSON, names an unknown field or is over
// http.max_body_bytes is refused before any handler runs.
#pragma once

#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/auth/authorizer.h"
#include "common/config.h"
#include "common/grpc_tls.h"
#include "common/status.h"

struct ssl_ctx_st;

namespace loyalty {

class DoorIdentity;  // the certificate and key, reloaded on change (http_door.cc)
class HttpServer;    // common/http_server.h

// http.address (empty: no door), http.max_body_bytes.
ConfigKeys HttpDoorKeys();

class HttpDoor {
 public:
  struct Answer {
    int http_status = 200;
    std::string body;  // JSON
  };

  // in_process: the gRPC server's own channel (GrpcServer::InProcessChannel). keys: nullptr
  // when API keys are off.
  HttpDoor(GrpcTlsSettings tls, std::shared_ptr<auth::PolicySource> policy,
           const auth::ApiKeyVerifier* keys, std::shared_ptr<grpc::Channel> in_process,
           size_t max_body_bytes, prometheus::Registry& registry);
  ~HttpDoor();  // Stop()

  // Listens on address ("host:port"; port 0: any free one), over TLS unless tls.insecure.
  Status Start(const std::string& address);
  int port() const { return port_; }
  void Stop();

  // One request, as the HTTP handler sees it; no network (unit tests and the fuzz target).
  Answer Handle(std::string_view path, std::string_view content_type,
                std::string_view authorization, std::string_view certificate_principal,
                std::string_view body);

  size_t max_body_bytes() const { return max_body_bytes_; }
  void Count(int http_status);

 private:
  const GrpcTlsSettings tls_;
  std::shared_ptr<auth::PolicySource> policy_;
  const auth::ApiKeyVerifier* keys_;
  std::shared_ptr<grpc::Channel> channel_;
  const size_t max_body_bytes_;
  prometheus::Family<prometheus::Counter>* requests_;
  std::unique_ptr<DoorIdentity> identity_;  // the TLS context's certificate callback uses it
  ssl_ctx_st* ssl_ctx_ = nullptr;           // an OpenSSL SSL_CTX; nullptr under grpc.insecure
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

// Connect's HTTP status for a gRPC code, and its name ("invalid_argument").
int HttpStatusOf(grpc::StatusCode code);
std::string ConnectCodeName(grpc::StatusCode code);

}  // namespace loyalty
