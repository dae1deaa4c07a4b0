// Transport security of the platform's gRPC servers and of their clients (the inter-service
// clients, loyaltyctl, tests and benchmarks): TLS with certificates from PEM files, mutual by
// default, the files watched and reloaded when they change so that certificates rotate
// without a restart (gRPC's FileWatcherCertificateProvider). A service's one certificate is
// both its server certificate and its client identity towards the services it calls.
//
// Plain text is refused unless grpc.insecure is set explicitly (docs/security.md).
#pragma once

#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace loyalty {

// Whether a server asks callers for a certificate.
enum class ClientCertificates {
  kRequire,   // mutual TLS: a caller without a certificate from the CA is refused in the handshake
  kOptional,  // verified if presented; callers without one authenticate with an API key
};

struct GrpcTlsSettings {
  bool insecure = false;  // plain text: no transport security, no certificate identity
  std::string cert_file;  // PEM certificate chain: this process's identity
  std::string key_file;   // PEM private key of cert_file
  std::string ca_file;    // PEM CA bundle that peers' certificates must chain to
  ClientCertificates client_certificates = ClientCertificates::kRequire;
  int refresh_seconds = 10;  // how often the files are checked for a change
};

// grpc.insecure, grpc.tls.cert_file, grpc.tls.key_file, grpc.tls.ca_file,
// grpc.tls.client_certificates, grpc.tls.refresh_seconds.
ConfigKeys GrpcTlsKeys();

// The settings from config. INVALID_ARGUMENT naming the key when TLS is neither configured
// nor switched off explicitly (grpc.insecure: true), when a file is missing or unreadable,
// or a value is not one of the allowed ones.
StatusOr<GrpcTlsSettings> GrpcTlsFromConfig(const Config& config);

// Checks that the named files exist and are readable (not that they hold a valid chain: the
// TLS library says that at the first handshake, and logs it).
Status CheckTlsFiles(const GrpcTlsSettings& settings);

// Credentials for a server: insecure ones when settings.insecure, else TLS with the watched
// files, requiring (or verifying if presented) client certificates from ca_file.
// authorizer (common/auth/authorizer.h) runs before every call's handler; none on an
// insecure port.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
    const GrpcTlsSettings& settings,
    std::shared_ptr<grpc::AuthMetadataProcessor> authorizer = nullptr);

// Credentials for a client channel: insecure, or TLS that verifies the server against ca_file
// (its certificate must name the host dialled, e.g. 127.0.0.1 or the service's DNS name) and
// presents cert_file as this process's identity when set.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const GrpcTlsSettings& settings);

}  // namespace loyalty
