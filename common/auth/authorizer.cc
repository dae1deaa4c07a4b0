#include "common/auth/authorizer.h"

#include <grpc/grpc_security_constants.h>

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

grpc::Status Unauthenticated(std::string message) {
  return {grpc::StatusCode::UNAUTHENTICATED, std::move(message)};
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

Authorizer::Authorizer(std::shared_ptr<PolicySource> policy, const ApiKeyVerifier* keys)
    : policy_(std::move(policy)), keys_(keys) {}

grpc::Status Authorizer::Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                                 OutputMetadata* consumed_auth_metadata,
                                 OutputMetadata* /*response_metadata*/) {
  const std::string method(Find(auth_metadata, ":path"));
  std::shared_ptr<const Policy> policy = policy_->Get();
  std::string principal;
  std::vector<std::string> roles;
  std::string_view authorization = Find(auth_metadata, "authorization");
  if (!authorization.empty()) {
    if (authorization.size() > kMaxAuthorizationBytes ||
        authorization.substr(0, kBearer.size()) != kBearer) {
      return Unauthenticated("authorization: not 'Bearer <API key>'");
    }
    if (keys_ == nullptr) return Unauthenticated("authorization: API keys are not enabled here");
    auto identity = keys_->Verify(authorization.substr(kBearer.size()));
    if (!identity) return Unauthenticated("authorization: unknown, revoked or expired API key");
    principal = "apikey:" + identity->name;
    roles = identity->roles;
    // The key goes no further than here: handlers and logs never see it.
    consumed_auth_metadata->insert({"authorization", std::string(authorization)});
  } else {
    principal = CertificatePrincipal(*context);
    if (principal.empty()) {
      return Unauthenticated("no client certificate and no API key (authorization: Bearer)");
    }
    roles = policy->RolesOf(principal);
  }
  if (roles.empty()) {
    return Unauthenticated("principal " + Quote(principal) + " has no role in the policy");
  }
  if (!policy->Allows(roles, method)) {
    return {grpc::StatusCode::PERMISSION_DENIED,
            Quote(principal) + " may not call " + Quote(method)};
  }
  context->AddProperty(kPrincipalProperty, principal);
  if (LimitedMethod(method)) {
    ArgumentLimits limits = policy->LimitsFor(roles, method);
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
  }
  return grpc::Status::OK;
}

Caller CallerOf(const grpc::AuthContext* context) {
  Caller caller;
  if (context == nullptr) {
    caller.principal = "anonymous";
    return caller;
  }
  caller.principal = First(*context, kPrincipalProperty);
  if (caller.principal.empty()) caller.principal = "anonymous";  // no Authorizer: insecure port
  std::string limit = First(*context, kAdjustLimitProperty);
  if (!limit.empty()) caller.limits.adjust_limit = std::stoll(limit);
  caller.limits.adjust_negative_only = !First(*context, kAdjustNegativeOnlyProperty).empty();
  if (!First(*context, kAwardSourcesLimitedProperty).empty()) {
    std::set<std::string> sources;
    for (const auto& s : context->FindPropertyValues(kAwardSourceProperty)) {
      sources.insert(std::string(s.data(), s.size()));
    }
    caller.limits.award_sources = std::move(sources);
  }
  return caller;
}

}  // namespace loyalty::auth
