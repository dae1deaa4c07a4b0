// Who made a call: the authenticated principal the Authorizer found (a certificate's SPIFFE
// id such as "spiffe://loyalty/till/kyiv-01", or "apikey:<name>"), or "anonymous" on a port
// without TLS. A core takes it with every mutating call: it scopes the call's idempotency key
// (the same key from another caller is another call) and is recorded in the ledger entries,
// events and audit records the call makes. No gRPC here: adapters build it from
// auth::CallerOf (common/auth/authorizer.h).
#pragma once

#include <string>

#include "common/named_type.h"

namespace loyalty {

using Principal = NamedType<std::string, struct PrincipalTag>;

inline constexpr char kAnonymousPrincipal[] = "anonymous";
inline Principal AnonymousPrincipal() { return Principal(kAnonymousPrincipal); }

}  // namespace loyalty
