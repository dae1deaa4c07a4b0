#include "common/grpc_tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <unistd.h>

namespace loyalty {
namespace {

using grpc::experimental::FileWatcherCertificateProvider;

constexpr int kMaxRefreshSeconds = 3600;

std::shared_ptr<FileWatcherCertificateProvider> WatchedFiles(const GrpcTlsSettings& settings) {
  if (settings.cert_file.empty()) {
    return std::make_shared<FileWatcherCertificateProvider>(settings.ca_file,
                                                            settings.refresh_seconds);
  }
  return std::make_shared<FileWatcherCertificateProvider>(
      settings.key_file, settings.cert_file, settings.ca_file, settings.refresh_seconds);
}

Status Readable(const std::string& key, const std::string& path) {
  if (path.empty()) return InvalidArgument(key + " is not set");
  if (::access(path.c_str(), R_OK) != 0) {
    return InvalidArgument(key + ": cannot read '" + path.substr(0, 200) + "'");
  }
  return Status::Ok();
}

}  // namespace

ConfigKeys GrpcTlsKeys() {
  return {
      BoolKey("grpc.insecure", false,
              "plain-text gRPC without TLS or certificate identity: only on a trusted network; "
              "without it a service refuses to start unless grpc.tls.* is set"),
      StringKey("grpc.tls.cert_file", "",
                "PEM certificate (chain) of this service: served to callers and presented to "
                "the services it calls"),
      StringKey("grpc.tls.key_file", "", "PEM private key of grpc.tls.cert_file"),
      StringKey("grpc.tls.ca_file", "",
                "PEM CA bundle that callers' and called services' certificates must chain to"),
      StringKey("grpc.tls.client_certificates", "require",
                "require (mutual TLS) or optional (callers without a certificate must send an "
                "API key)"),
      IntKey("grpc.tls.refresh_seconds", 10,
             "how often the certificate files are checked for a change (rotation without "
             "restart)"),
  };
}

Status CheckTlsFiles(const GrpcTlsSettings& settings) {
  if (settings.insecure) return Status::Ok();
  if (Status s = Readable("grpc.tls.ca_file", settings.ca_file); !s.ok()) return s;
  if (settings.cert_file.empty() && settings.key_file.empty()) return Status::Ok();
  if (Status s = Readable("grpc.tls.cert_file", settings.cert_file); !s.ok()) return s;
  return Readable("grpc.tls.key_file", settings.key_file);
}

StatusOr<GrpcTlsSettings> GrpcTlsFromConfig(const Config& config) {
  GrpcTlsSettings settings;
  settings.insecure = config.GetBool("grpc.insecure");
  settings.cert_file = config.GetString("grpc.tls.cert_file");
  settings.key_file = config.GetString("grpc.tls.key_file");
  settings.ca_file = config.GetString("grpc.tls.ca_file");
  const std::string client_certificates = config.GetString("grpc.tls.client_certificates");
  if (client_certificates == "require") {
    settings.client_certificates = ClientCertificates::kRequire;
  } else if (client_certificates == "optional") {
    settings.client_certificates = ClientCertificates::kOptional;
  } else {
    return InvalidArgument("grpc.tls.client_certificates: '" + client_certificates.substr(0, 64) +
                           "' is not require or optional");
  }
  const int64_t refresh = config.GetInt("grpc.tls.refresh_seconds");
  if (refresh < 1 || refresh > kMaxRefreshSeconds) {
    return InvalidArgument("grpc.tls.refresh_seconds: " + std::to_string(refresh) +
                           " is not in 1.." + std::to_string(kMaxRefreshSeconds));
  }
  settings.refresh_seconds = static_cast<int>(refresh);
  if (settings.insecure) return settings;
  if (settings.cert_file.empty() && settings.key_file.empty() && settings.ca_file.empty()) {
    return InvalidArgument(
        "no TLS configured: set grpc.tls.cert_file, grpc.tls.key_file and grpc.tls.ca_file "
        "(docs/security.md), or grpc.insecure: true to serve plain text on a trusted network");
  }
  if (settings.cert_file.empty() || settings.key_file.empty()) {
    return InvalidArgument("a server needs grpc.tls.cert_file and grpc.tls.key_file");
  }
  if (Status s = CheckTlsFiles(settings); !s.ok()) return s;
  return settings;
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
    const GrpcTlsSettings& settings, std::shared_ptr<grpc::AuthMetadataProcessor> authorizer) {
  if (settings.insecure) return grpc::InsecureServerCredentials();
  grpc::experimental::TlsServerCredentialsOptions options(WatchedFiles(settings));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(settings.client_certificates == ClientCertificates::kRequire
                                    ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                    : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  auto credentials = grpc::experimental::TlsServerCredentials(options);
  if (authorizer) credentials->SetAuthMetadataProcessor(std::move(authorizer));
  return credentials;
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const GrpcTlsSettings& settings) {
  if (settings.insecure) return grpc::InsecureChannelCredentials();
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(WatchedFiles(settings));
  options.watch_root_certs();
  if (!settings.cert_file.empty()) options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace loyalty
