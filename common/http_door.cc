#include "common/http_door.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <vector>

#include "common/field_limits.h"
#include "common/http_server.h"
#include "common/log.h"

namespace loyalty {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

constexpr size_t kMaxPathBytes = 256;
constexpr auto kCallDeadline = std::chrono::seconds(30);

// The length of the well-formed UTF-8 sequence at the start of s (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0.
size_t Utf8Length(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // the range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    length = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    length = 3;
    if (c == 0xe0) low = 0xa0;
    if (c == 0xed) high = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    length = 4;
    if (c == 0xf0) low = 0x90;
    if (c == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (length > s.size() || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
  }
  return length;
}

// A JSON string of message: escaped, and bytes that are not UTF-8 (an error may quote what a
// caller sent) as U+FFFD, so that the error is always valid JSON.
std::string JsonQuoted(std::string_view message) {
  std::string quoted = "\"";
  while (!message.empty()) {
    const char c = message[0];
    size_t length = Utf8Length(message);
    if (length == 0) {
      quoted += "\\ufffd";
      length = 1;
    } else if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      quoted += buf;
    } else {
      quoted.append(message.substr(0, length));
    }
    message.remove_prefix(length);
  }
  return quoted + "\"";
}

std::string ConnectError(grpc::StatusCode code, std::string_view message) {
  return "{\"code\":\"" + ConnectCodeName(code) + "\",\"message\":" + JsonQuoted(message) + "}";
}

HttpDoor::Answer Error(grpc::StatusCode code, std::string_view message) {
  return {HttpStatusOf(code), ConnectError(code, message)};
}

}  // namespace

// The door's certificate and key, read again when the files change (checked at most every
// grpc.tls.refresh_seconds, on a handshake), so that a rotated certificate is served without
// a restart, as on the gRPC port.
class DoorIdentity {
 public:
  explicit DoorIdentity(const GrpcTlsSettings& tls) : tls_(tls) {}
  ~DoorIdentity() { Clear(); }

  // Loads the files if they changed; false if they cannot be read (the old pair stays).
  bool Refresh() {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (cert_ != nullptr && now - checked_ < std::chrono::seconds(tls_.refresh_seconds)) {
      return true;
    }
    checked_ = now;
    const std::string stamp = Stamp(tls_.cert_file) + "|" + Stamp(tls_.key_file);
    if (cert_ != nullptr && stamp == stamp_) return true;
    X509* cert = nullptr;
    STACK_OF(X509)* chain = sk_X509_new_null();
    EVP_PKEY* key = nullptr;
    if (FILE* f = std::fopen(tls_.cert_file.c_str(), "r")) {
      cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
      while (X509* extra = PEM_read_X509(f, nullptr, nullptr, nullptr)) sk_X509_push(chain, extra);
      ERR_clear_error();  // the end of the file reads as an error
      std::fclose(f);
    }
    if (FILE* f = std::fopen(tls_.key_file.c_str(), "r")) {
      key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
      std::fclose(f);
    }
    if (cert == nullptr || key == nullptr || X509_check_private_key(cert, key) != 1) {
      X509_free(cert);
      EVP_PKEY_free(key);
      sk_X509_pop_free(chain, X509_free);
      if (cert_ != nullptr)
        LogWarn("http door: the new certificate files do not load; kept the old");
      return cert_ != nullptr;
    }
    Clear();
    cert_ = cert;
    chain_ = chain;
    key_ = key;
    stamp_ = stamp;
    return true;
  }

  // Puts the current pair on a connection being accepted.
  int Use(SSL* ssl) {
    if (!Refresh()) return 0;
    std::lock_guard lock(mu_);
    return SSL_use_cert_and_key(ssl, cert_, key_, chain_, 1) == 1 ? 1 : 0;
  }

  const GrpcTlsSettings& tls() const { return tls_; }

 private:
  static std::string Stamp(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return "";
    return std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
           std::to_string(st.st_size);
  }
  void Clear() {
    X509_free(cert_);
    EVP_PKEY_free(key_);
    if (chain_ != nullptr) sk_X509_pop_free(chain_, X509_free);
    cert_ = nullptr;
    key_ = nullptr;
    chain_ = nullptr;
  }

  const GrpcTlsSettings tls_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point checked_{};
  std::string stamp_;  // guarded by mu_, as the three below
  X509* cert_ = nullptr;
  STACK_OF(X509) * chain_ = nullptr;  // the intermediates after the leaf
  EVP_PKEY* key_ = nullptr;
};

namespace {

// The door's TLS context: the CA that client certificates must chain to, whether one is
// required (grpc.tls.client_certificates), TLS 1.2 at least, and the DoorIdentity's pair on
// every handshake. nullptr if the files do not load.
SSL_CTX* NewSslContext(DoorIdentity& identity) {
  const GrpcTlsSettings& tls = identity.tls();
  if (!identity.Refresh()) return nullptr;
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr) != 1) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(tls.ca_file.c_str()));
  int mode = SSL_VERIFY_PEER;
  if (tls.client_certificates == ClientCertificates::kRequire) {
    mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(ctx, mode, nullptr);
  SSL_CTX_set_cert_cb(
      ctx, [](SSL* ssl, void* arg) { return static_cast<DoorIdentity*>(arg)->Use(ssl); },
      &identity);
  return ctx;
}

}  // namespace

ConfigKeys HttpDoorKeys() {
  return {
      StringKey("http.address", "",
                "listen address of the HTTP/JSON door (POST /loyalty.v1.<Service>/<Method>, "
                "docs/api.md); same TLS, identity and policy as gRPC; empty: no door"),
      IntKey("http.max_body_bytes", 1 << 20, "largest request body the HTTP/JSON door reads"),
  };
}

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    default:
      return 500;
  }
}

std::string ConnectCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "ok";
    case grpc::StatusCode::CANCELLED:
      return "canceled";
    case grpc::StatusCode::UNKNOWN:
      return "unknown";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid_argument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline_exceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "not_found";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "already_exists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "permission_denied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "resource_exhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "failed_precondition";
    case grpc::StatusCode::ABORTED:
      return "aborted";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "out_of_range";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "unimplemented";
    case grpc::StatusCode::INTERNAL:
      return "internal";
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    case grpc::StatusCode::DATA_LOSS:
      return "data_loss";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "unauthenticated";
    default:
      return "unknown";
  }
}

HttpDoor::HttpDoor(GrpcTlsSettings tls, std::shared_ptr<auth::PolicySource> policy,
                   const auth::ApiKeyVerifier* keys, std::shared_ptr<grpc::Channel> in_process,
                   size_t max_body_bytes, prometheus::Registry& registry)
    : tls_(std::move(tls)),
      policy_(std::move(policy)),
      keys_(keys),
      channel_(std::move(in_process)),
      max_body_bytes_(max_body_bytes),
      requests_(&prometheus::BuildCounter()
                     .Name("http_door_requests_total")
                     .Help("Requests answered by the HTTP/JSON door, by HTTP status")
                     .Register(registry)) {}

HttpDoor::~HttpDoor() { Stop(); }

void HttpDoor::Count(int http_status) {
  requests_->Add({{"code", std::to_string(http_status)}}).Increment();
}

HttpDoor::Answer HttpDoor::Handle(std::string_view path, std::string_view content_type,
                                  std::string_view authorization,
                                  std::string_view certificate_principal, std::string_view body) {
  if (path.size() > kMaxPathBytes || path.size() < 2 || path[0] != '/') {
    return Error(grpc::StatusCode::NOT_FOUND, "path: not /<package.Service>/<Method>");
  }
  const size_t slash = path.find('/', 1);
  if (slash == std::string_view::npos || path.substr(1, 11) != "loyalty.v1.") {
    return Error(grpc::StatusCode::NOT_FOUND, "path: " + Quote(path) + " is no loyalty method");
  }
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  const auto* service = pool->FindServiceByName(std::string(path.substr(1, slash - 1)));
  const MethodDescriptor* method =
      service == nullptr ? nullptr : service->FindMethodByName(std::string(path.substr(slash + 1)));
  if (method == nullptr || method->client_streaming() || method->server_streaming()) {
    return Error(grpc::StatusCode::NOT_FOUND, "path: no unary method " + Quote(path));
  }
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media != "application/json") {
    Answer answer = Error(grpc::StatusCode::INVALID_ARGUMENT,
                          "Content-Type: application/json, got " + Quote(content_type));
    answer.http_status = 415;
    return answer;
  }
  auto grant = auth::Authorize(*policy_->Get(), keys_, path, certificate_principal, authorization);
  if (!grant.ok()) {
    return Error(static_cast<grpc::StatusCode>(grant.status().code()), grant.status().message());
  }

  std::unique_ptr<Message> request(google::protobuf::MessageFactory::generated_factory()
                                       ->GetPrototype(method->input_type())
                                       ->New());
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;  // a misspelt field is an error, not a silent default
  std::string_view json = body.empty() ? std::string_view("{}") : body;
  if (auto s = google::protobuf::util::JsonStringToMessage(std::string(json), request.get(), parse);
      !s.ok()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT,
                 "body: not a " + method->input_type()->full_name() +
                     " in JSON: " + Quote(std::string(s.message())));
  }

  grpc::GenericStub stub(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  for (const auto& [key, value] : auth::DoorMetadata(*grant)) context.AddMetadata(key, value);
  std::string request_bytes = request->SerializeAsString();
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request_buffer(&slice, 1), response_buffer;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, std::string(path), grpc::StubOptions(), &request_buffer,
                 &response_buffer, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return Error(status.error_code(), status.error_message());

  std::vector<grpc::Slice> slices;
  std::string response_bytes;
  if (response_buffer.Dump(&slices).ok()) {
    for (const auto& s : slices) {
      response_bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  std::unique_ptr<Message> response(google::protobuf::MessageFactory::generated_factory()
                                        ->GetPrototype(method->output_type())
                                        ->New());
  if (!response->ParseFromString(response_bytes)) {
    return Error(grpc::StatusCode::INTERNAL, "the response does not decode");
  }
  Answer answer;
  if (!google::protobuf::util::MessageToJsonString(*response, &answer.body).ok()) {
    return Error(grpc::StatusCode::INTERNAL, "the response does not print as JSON");
  }
  return answer;
}

Status HttpDoor::Start(const std::string& address) {
  if (!tls_.insecure) {
    identity_ = std::make_unique<DoorIdentity>(tls_);
    ssl_ctx_ = NewSslContext(*identity_);
    if (ssl_ctx_ == nullptr) {
      return Internal("http door: the certificate, key or CA files (grpc.tls.*) do not load");
    }
  }
  HttpServer::Options options;
  options.max_body_bytes = max_body_bytes_;
  server_ = std::make_unique<HttpServer>(options, ssl_ctx_, [this](const HttpRequest& request) {
    Answer answer;
    if (request.method != "POST") {
      answer =
          Error(grpc::StatusCode::UNIMPLEMENTED, "only POST: the Connect protocol's unary form");
      answer.http_status = 405;
    } else {
      answer = Handle(request.path, request.Header("content-type"), request.Header("authorization"),
                      request.certificate_principal, request.body);
    }
    Count(answer.http_status);
    return HttpResponse{answer.http_status, "application/json", std::move(answer.body)};
  });
  if (Status s = server_->Start(address); !s.ok()) return Internal("http.address: " + s.message());
  port_ = server_->port();
  return Status::Ok();
}

void HttpDoor::Stop() {
  if (server_) server_->Stop();
  server_.reset();
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  ssl_ctx_ = nullptr;
}

}  // namespace loyalty
