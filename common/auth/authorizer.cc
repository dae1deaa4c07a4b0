#include "common/auth/authorizer.h"

#include <grpc/grpc_security_constants.h>
#include <openssl/crypto.h>

#include <atomic>
#include <set>
#include <stdexcept>

#include "common/auth/api_keys.h"
#include "common/field_limits.h"

namespace loyalty::auth {
namespace {

// The Authorizer installed last (ServiceRuntime makes one per process), for CallerOf.
std::atomic<const Authorizer*> installed{nullptr};

constexpr std::string_view kBearer = "Bearer ";
constexpr size_t kMaxAuthorizationBytes = 512;

std::string First(const grpc::AuthContext& context, const char* property) {
  auto values = context.FindPropertyValues(property);
  if (values.empty()) return "";
  return std::string(values.front().data(), values.front().size());
}

std::string_view Find(const grpc::AuthMetadataProcessor::InputMetadata& metadata,
                      std::string_view key) {
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return {};
  return {it->second.data(), it->second.size()};
}

bool LimitedMethod(std::string_view method) {
  return method == "/loyalty.v1.AccrualService/AdjustPoints" ||
         method == "/loyalty.v1.AccrualService/AwardPoints";
}

}  // namespace

std::string CertificatePrincipal(const grpc::AuthContext& context) {
  for (const char* property : {GRPC_PEER_SPIFFE_ID_PROPERTY_NAME, GRPC_PEER_URI_PROPERTY_NAME,
                               GRPC_PEER_DNS_PROPERTY_NAME, GRPC_X509_CN_PROPERTY_NAME}) {
    std::string value = First(context, property);
    if (!value.empty()) return value;
  }
  return "";
}

StatusOr<Identity> Identify(const Policy& policy, const ApiKeyVerifier* keys,
                            std::string_view certificate_principal,
                            std::string_view authorization) {
  Identity identity;
  if (!authorization.empty()) {
    if (authorization.size() > kMaxAuthorizationBytes ||
        authorization.substr(0, kBearer.size()) != kBearer) {
      return Status(Code::kUnauthenticated, "authorization: not 'Bearer <API key>'");
    }
    if (keys == nullptr) {
      return Status(Code::kUnauthenticated, "authorization: API keys are not enabled here");
    }
    auto key = keys->Verify(authorization.substr(kBearer.size()));
    if (!key) {
      return Status(Code::kUnauthenticated, "authorization: unknown, revoked or expired API key");
    }
    identity.principal = "apikey:" + key->name;
    identity.roles = key->roles;
  } else {
    if (certificate_principal.empty()) {
      return Status(Code::kUnauthenticated,
                    "no client certificate and no API key (authorization: Bearer)");
    }
    identity.principal = std::string(certificate_principal);
    identity.roles = policy.RolesOf(identity.principal);
  }
  if (identity.roles.empty()) {
    return Status(Code::kUnauthenticated,
                  "principal " + Quote(identity.principal) + " has no role in the policy");
  }
  return identity;
}

StatusOr<Grant> Authorize(const Policy& policy, const ApiKeyVerifier* keys, std::string_view method,
                          std::string_view certificate_principal, std::string_view authorization) {
  auto identity = Identify(policy, keys, certificate_principal, authorization);
  if (!identity.ok()) return identity.status();
  if (!policy.Allows(identity->roles, method)) {
    return Status(Code::kPermissionDenied,
                  Quote(identity->principal) + " may not call " + Quote(method));
  }
  Grant grant;
  grant.principal = std::move(identity->principal);
  if (LimitedMethod(method)) grant.limits = policy.LimitsFor(identity->roles, method);
  return grant;
}

Authorizer::Authorizer(std::shared_ptr<PolicySource> policy, const ApiKeyVerifier* keys,
                       std::string peer_principal)
    : policy_(std::move(policy)), keys_(keys), peer_principal_(std::move(peer_principal)) {
  installed.store(this);
}

Authorizer::~Authorizer() {
  const Authorizer* self = this;
  installed.compare_exchange_strong(self, nullptr);
}

const Authorizer* Authorizer::Installed() { return installed.load(); }

// Decides only. It must not write to the AuthContext: gRPC gives every call of a connection
// the connection's one context, so a property added here would be seen (and raced over) by
// the connection's other calls. The handler works the grant out again (CallerOf).
grpc::Status Authorizer::Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                                 OutputMetadata* /*consumed_auth_metadata*/,
                                 OutputMetadata* /*response_metadata*/) {
  const std::string method(Find(auth_metadata, ":path"));
  // Another instance of this service decided this call before forwarding it to the owner.
  if (!peer_principal_.empty() && !Find(auth_metadata, kForwardedFromHeader).empty() &&
      CertificatePrincipal(*context) == peer_principal_) {
    return grpc::Status::OK;
  }
  // A key, when sent, outranks the certificate.
  auto grant = Authorize(*policy_->Get(), keys_, method, CertificatePrincipal(*context),
                         Find(auth_metadata, "authorization"));
  if (!grant.ok()) {
    return {static_cast<grpc::StatusCode>(grant.status().code()), grant.status().message()};
  }
  return grpc::Status::OK;
}

const std::string& DoorToken() {
  static const std::string token = RandomHex(32);
  return token;
}

std::vector<std::pair<std::string, std::string>> DoorMetadata(const Grant& grant) {
  std::vector<std::pair<std::string, std::string>> out = {{kDoorTokenHeader, DoorToken()}};
  for (auto& entry : GrantMetadata(Caller{grant.principal, grant.limits})) {
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> GrantMetadata(const Caller& caller) {
  std::vector<std::pair<std::string, std::string>> out = {{kDoorPrincipalHeader, caller.principal}};
  const ArgumentLimits& limits = caller.limits;
  if (limits.adjust_limit)
    out.push_back({kDoorAdjustLimitHeader, std::to_string(*limits.adjust_limit)});
  if (limits.adjust_negative_only) out.push_back({kDoorAdjustNegativeOnlyHeader, "1"});
  if (limits.award_sources) {
    out.push_back({kDoorAwardSourcesLimitedHeader, "1"});
    for (const auto& source : *limits.award_sources)
      out.push_back({kDoorAwardSourceHeader, source});
  }
  return out;
}

namespace {

std::vector<std::string> MetadataValues(const grpc::ServerContextBase& context, const char* key) {
  std::vector<std::string> out;
  auto range = context.client_metadata().equal_range(key);
  for (auto it = range.first; it != range.second; ++it) {
    out.emplace_back(it->second.data(), it->second.size());
  }
  return out;
}

std::string FirstValue(const grpc::ServerContextBase& context, const char* key) {
  auto values = MetadataValues(context, key);
  return values.empty() ? "" : values.front();
}

// Whether the call came through this process's HTTP door: only it knows the token.
bool FromTheDoor(const grpc::ServerContextBase& context) {
  std::string token = FirstValue(context, kDoorTokenHeader);
  const std::string& expected = DoorToken();
  return token.size() == expected.size() &&
         CRYPTO_memcmp(token.data(), expected.data(), expected.size()) == 0;
}

// Forwarded by a peer whose certificate proves it (never on a port without TLS).
bool FromTrustedPeer(const grpc::ServerContextBase& context) {
  const Authorizer* authorizer = Authorizer::Installed();
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (authorizer == nullptr || authorizer->peer_principal().empty() || !auth) return false;
  return !FirstValue(context, kForwardedFromHeader).empty() &&
         CertificatePrincipal(*auth) == authorizer->peer_principal();
}

}  // namespace

bool ForwardedByPeer(const grpc::ServerContextBase& context) {
  if (FirstValue(context, kForwardedFromHeader).empty()) return false;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return true;  // plain text: nothing to prove
  return FromTrustedPeer(context);
}

Caller CallerOf(const grpc::ServerContextBase& context, std::string_view method) {
  Caller caller;
  if (FromTheDoor(context) || FromTrustedPeer(context)) {
    caller.principal = FirstValue(context, kDoorPrincipalHeader);
    std::string limit = FirstValue(context, kDoorAdjustLimitHeader);
    if (!limit.empty()) caller.limits.adjust_limit = std::stoll(limit);
    caller.limits.adjust_negative_only =
        !FirstValue(context, kDoorAdjustNegativeOnlyHeader).empty();
    if (!FirstValue(context, kDoorAwardSourcesLimitedHeader).empty()) {
      auto values = MetadataValues(context, kDoorAwardSourceHeader);
      caller.limits.award_sources = std::set<std::string>(values.begin(), values.end());
    }
    return caller;
  }
  const Authorizer* authorizer = Authorizer::Installed();
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (authorizer != nullptr && auth) {
    std::shared_ptr<const Policy> policy = authorizer->policy();
    auto identity = Identify(*policy, authorizer->keys(), CertificatePrincipal(*auth),
                             FirstValue(context, "authorization"));
    if (identity.ok()) {
      caller.principal = identity->principal;
      if (LimitedMethod(method)) caller.limits = policy->LimitsFor(identity->roles, method);
      return caller;
    }
  }
  caller.principal = "anonymous";  // a port without TLS (grpc.insecure) and no key
  return caller;
}

}  // namespace loyalty::auth
