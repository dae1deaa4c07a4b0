// The gRPC side of "who may call what" (common/auth/policy.h): every call on a TLS port is
// authenticated and authorised before its handler runs, in the server credentials' auth
// metadata processor, which sees the peer's verified certificate, the request metadata and
// the method (":path").
//
// - The principal is an API key's (from `authorization: Bearer <key>`, when sent) or the
//   client certificate's: its SPIFFE id / URI SAN, else its first DNS SAN, else its subject
//   CN. No certificate and no key, a key that does not verify, or a principal without any
//   role: UNAUTHENTICATED. A method none of its roles names: PERMISSION_DENIED naming both.
// - What the handler needs is left in the call's AuthContext: the principal, and for the
//   methods with argument limits (AdjustPoints, AwardPoints) the limits (CallerOf).
// - The policy file is read again when it changes (PolicyFile); a file that does not parse
//   keeps the policy in force and is logged.
#pragma once

#include <grpcpp/security/auth_context.h>
#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/server_context.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/auth/policy.h"
#include "common/principal.h"
#include "common/status.h"

namespace loyalty::auth {

// An API key's identity once its secret verified (common/auth/api_keys.h).
struct KeyIdentity {
  std::string name;  // the principal is "apikey:" + name
  std::vector<std::string> roles;
};
class ApiKeyVerifier {
 public:
  virtual ~ApiKeyVerifier() = default;
  // The key's identity, or nullopt when it is unknown, revoked, expired or does not verify.
  virtual std::optional<KeyIdentity> Verify(std::string_view presented) const = 0;
};

// The policy in force, swapped whole when the file changes.
class PolicySource {
 public:
  explicit PolicySource(Policy initial)
      : policy_(std::make_shared<const Policy>(std::move(initial))) {}
  std::shared_ptr<const Policy> Get() const {
    std::lock_guard lock(mu_);
    return policy_;
  }
  void Set(Policy policy) {
    auto next = std::make_shared<const Policy>(std::move(policy));
    std::lock_guard lock(mu_);
    policy_ = std::move(next);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> policy_;  // guarded by mu_
};

// The principal a verified client certificate names, or "" if the context holds none.
std::string CertificatePrincipal(const grpc::AuthContext& context);

class Authorizer : public grpc::AuthMetadataProcessor {
 public:
  // keys: nullptr when API keys are not in use (a bearer token is then UNAUTHENTICATED).
  Authorizer(std::shared_ptr<PolicySource> policy, const ApiKeyVerifier* keys);

  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  std::shared_ptr<PolicySource> policy_;
  const ApiKeyVerifier* keys_;
};

// The caller of a call as the Authorizer left it: principal and argument limits. On a port
// without TLS (grpc.insecure) there is no Authorizer: the principal is "anonymous" and no
// argument is limited.
struct Caller {
  std::string principal;
  ArgumentLimits limits;
};
Caller CallerOf(const grpc::AuthContext* context);
// The caller's principal as the cores take it (common/principal.h).
inline Principal PrincipalOf(const grpc::ServerContextBase& context) {
  return Principal(CallerOf(context.auth_context().get()).principal);
}

}  // namespace loyalty::auth
