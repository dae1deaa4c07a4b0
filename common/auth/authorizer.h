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
#include <string_view>
#include <utility>
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

// Who a caller is: its principal and the roles it holds (a key's own, or the policy's for a
// certificate's principal).
struct Identity {
  std::string principal;
  std::vector<std::string> roles;
};
// UNAUTHENTICATED naming what is missing: no certificate and no key, a key that does not
// verify, a principal without a role.
StatusOr<Identity> Identify(const Policy& policy, const ApiKeyVerifier* keys,
                            std::string_view certificate_principal, std::string_view authorization);

// What a caller may do in one call, once authenticated and authorised.
struct Grant {
  std::string principal;
  ArgumentLimits limits;  // for the methods with argument limits (AdjustPoints, AwardPoints)
};
// The one decision of "who may call what", for the gRPC ports (Authorizer) and the HTTP door
// alike: the API key in authorization ("Bearer <key>") when given, else the certificate's
// principal ("" if none). UNAUTHENTICATED or PERMISSION_DENIED naming what is missing.
StatusOr<Grant> Authorize(const Policy& policy, const ApiKeyVerifier* keys, std::string_view method,
                          std::string_view certificate_principal, std::string_view authorization);

class Authorizer : public grpc::AuthMetadataProcessor {
 public:
  // keys: nullptr when API keys are not in use (a bearer token is then UNAUTHENTICATED).
  // peer_principal: the certificate principal of this service's other instances, whose
  // forwarded calls carry the grant the first instance decided (common/forwarder.h); ""
  // trusts none. The newest Authorizer of the process is the one CallerOf asks (Installed).
  Authorizer(std::shared_ptr<PolicySource> policy, const ApiKeyVerifier* keys,
             std::string peer_principal = "");
  ~Authorizer() override;
  static const Authorizer* Installed();
  std::shared_ptr<const Policy> policy() const { return policy_->Get(); }
  const ApiKeyVerifier* keys() const { return keys_; }
  const std::string& peer_principal() const { return peer_principal_; }

  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  std::shared_ptr<PolicySource> policy_;
  const ApiKeyVerifier* keys_;
  std::string peer_principal_;
};

// Who a call's caller is once authorised: its principal, and the argument limits of the
// method (AdjustPoints, AwardPoints; none for other methods).
struct Caller {
  std::string principal;
  ArgumentLimits limits;
};

// The HTTP door (common/http_door.h) calls the service in process, where no Authorizer runs:
// it decides with Authorize and passes the grant in these metadata entries, with a token only
// this process knows, so that no outside caller can claim a grant by sending them.
inline constexpr char kDoorTokenHeader[] = "x-loyalty-door-token";
inline constexpr char kDoorPrincipalHeader[] = "x-loyalty-door-principal";
inline constexpr char kDoorAdjustLimitHeader[] = "x-loyalty-door-adjust-limit";
inline constexpr char kDoorAdjustNegativeOnlyHeader[] = "x-loyalty-door-adjust-negative-only";
inline constexpr char kDoorAwardSourcesLimitedHeader[] = "x-loyalty-door-award-sources-limited";
inline constexpr char kDoorAwardSourceHeader[] = "x-loyalty-door-award-source";
const std::string& DoorToken();
std::vector<std::pair<std::string, std::string>> DoorMetadata(const Grant& grant);

// A call one instance forwards to the member's owner (common/forwarder.h) carries the grant it
// decided in the same entries (without the door's token) and this one, the forwarding
// instance's index. The owner honours them only from the peer principal over mutual TLS.
inline constexpr char kForwardedFromHeader[] = "x-loyalty-forwarded-from";
std::vector<std::pair<std::string, std::string>> GrantMetadata(const Caller& caller);
// Whether the call was forwarded by another instance of this service, as its certificate
// proves (a port without TLS: whether the header is there, since nothing is trusted there).
bool ForwardedByPeer(const grpc::ServerContextBase& context);

// The caller of a call, as the Authorizer identified it (worked out again from the peer's
// certificate and the call's authorization header), or as the HTTP door or a forwarding peer
// passed it; with the argument limits of method. Otherwise (a port without TLS,
// grpc.insecure) the principal is "anonymous" and nothing is limited.
Caller CallerOf(const grpc::ServerContextBase& context, std::string_view method = "");
// The caller's principal as the cores take it (common/principal.h).
inline Principal PrincipalOf(const grpc::ServerContextBase& context) {
  return Principal(CallerOf(context).principal);
}

}  // namespace loyalty::auth
