#include "common/auth/authorizer.h"

#include <grpc/grpc_security_constants.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <set>
#include <stdexcept>

#include "common/field_limits.h"

namespace loyalty::auth {
namespace {

// Properties the Authorizer adds to a call's AuthContext for the handler.
constexpr char kPrincipalProperty[] = "loyalty_principal";
constexpr char kAdjustLimitProperty[] = "loyalty_adjust_limit";
constexpr char kAdjustNegativeOnlyProperty[] = "loyalty_adjust_negative_only";
constexpr char kAwardSourceProperty[] = "loyalty_award_source";
constexpr char kAwardSourcesLimitedProperty[] = "loyalty_award_sources_limited";

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

StatusOr<Grant> Authorize(const Policy& policy, const ApiKeyVerifier* keys, std::string_view method,
                          std::string_view certificate_principal, std::string_view authorization) {
  Grant grant;
  std::vector<std::string> roles;
  if (!authorization.empty()) {
    if (authorization.size() > kMaxAuthorizationBytes ||
        authorization.substr(0, kBearer.size()) != kBearer) {
      return Status(Code::kUnauthenticated, "authorization: not 'Bearer <API key>'");
    }
    if (keys == nullptr) {
      return Status(Code::kUnauthenticated, "authorization: API keys are not enabled here");
    }
    auto identity = keys->Verify(authorization.substr(kBearer.size()));
    if (!identity) {
      return Status(Code::kUnauthenticated, "authorization: unknown, revoked or expired API key");
    }
    grant.principal = "apikey:" + identity->name;
    roles = identity->roles;
  } else {
    if (certificate_principal.empty()) {
      return Status(Code::kUnauthenticated,
                    "no client certificate and no API key (authorization: Bearer)");
    }
    grant.principal = std::string(certificate_principal);
    roles = policy.RolesOf(grant.principal);
  }
  if (roles.empty()) {
    return Status(Code::kUnauthenticated,
                  "principal " + Quote(grant.principal) + " has no role in the policy");
  }
  if (!policy.Allows(roles, method)) {
    return Status(Code::kPermissionDenied,
                  Quote(grant.principal) + " may not call " + Quote(method));
  }
  if (LimitedMethod(method)) grant.limits = policy.LimitsFor(roles, method);
  return grant;
}

Authorizer::Authorizer(std::shared_ptr<PolicySource> policy, const ApiKeyVerifier* keys)
    : policy_(std::move(policy)), keys_(keys) {}

grpc::Status Authorizer::Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                                 OutputMetadata* consumed_auth_metadata,
                                 OutputMetadata* /*response_metadata*/) {
  const std::string method(Find(auth_metadata, ":path"));
  std::string_view authorization = Find(auth_metadata, "authorization");
  // A key, when sent, outranks the certificate.
  auto grant =
      Authorize(*policy_->Get(), keys_, method, CertificatePrincipal(*context), authorization);
  if (!grant.ok()) {
    return {static_cast<grpc::StatusCode>(grant.status().code()), grant.status().message()};
  }
  // The key goes no further than here: handlers and logs never see it.
  if (!authorization.empty()) {
    consumed_auth_metadata->insert({"authorization", std::string(authorization)});
  }
  context->AddProperty(kPrincipalProperty, grant->principal);
  const ArgumentLimits& limits = grant->limits;
  if (limits.adjust_limit) {
    context->AddProperty(kAdjustLimitProperty, std::to_string(*limits.adjust_limit));
  }
  if (limits.adjust_negative_only) context->AddProperty(kAdjustNegativeOnlyProperty, "1");
  if (limits.award_sources) {
    context->AddProperty(kAwardSourcesLimitedProperty, "1");
    for (const auto& source : *limits.award_sources) {
      context->AddProperty(kAwardSourceProperty, source);
    }
  }
  return grpc::Status::OK;
}

const std::string& DoorToken() {
  static const std::string token = [] {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char b : bytes) {
      hex.push_back(kDigits[b >> 4]);
      hex.push_back(kDigits[b & 0xf]);
    }
    return hex;
  }();
  return token;
}

std::vector<std::pair<std::string, std::string>> DoorMetadata(const Grant& grant) {
  std::vector<std::pair<std::string, std::string>> out = {{kDoorTokenHeader, DoorToken()},
                                                          {kDoorPrincipalHeader, grant.principal}};
  const ArgumentLimits& limits = grant.limits;
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

}  // namespace

Caller CallerOf(const grpc::ServerContextBase& context) {
  Caller caller;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth && !First(*auth, kPrincipalProperty).empty()) {
    caller.principal = First(*auth, kPrincipalProperty);
    std::string limit = First(*auth, kAdjustLimitProperty);
    if (!limit.empty()) caller.limits.adjust_limit = std::stoll(limit);
    caller.limits.adjust_negative_only = !First(*auth, kAdjustNegativeOnlyProperty).empty();
    if (!First(*auth, kAwardSourcesLimitedProperty).empty()) {
      std::set<std::string> sources;
      for (const auto& s : auth->FindPropertyValues(kAwardSourceProperty)) {
        sources.insert(std::string(s.data(), s.size()));
      }
      caller.limits.award_sources = std::move(sources);
    }
    return caller;
  }
  if (FromTheDoor(context)) {
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
  caller.principal = "anonymous";  // no Authorizer and not the door: an insecure port
  return caller;
}

}  // namespace loyalty::auth
