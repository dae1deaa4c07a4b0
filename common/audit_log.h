// The audit log of administrative changes (proto/loyalty/v1/audit.proto): every service keeps
// its own in the "audit" column family, each record written in the same durable write as the
// change it describes (AppendAudit in the call's unit of work), or on its own for changes that
// are not a core's (API keys, policy reloads: WriteAudit). Records are never changed; they
// are read newest first (ListAuditLog). No gRPC here: common/audit_service.h serves it.
#pragma once

#include <google/protobuf/message.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "common/principal.h"
#include "common/status.h"
#include "common/store.h"
#include "common/unit_of_work.h"
#include "loyalty/v1/audit.pb.h"

namespace loyalty {

inline constexpr char kAuditCf[] = "audit";
inline constexpr size_t kMaxAuditRequestBytes = 4096;

// The record of a call: the request (nullptr: none) as proto3 JSON with personal data masked
// (MaskPersonalData) and cut to kMaxAuditRequestBytes.
v1::AuditRecord MakeAuditRecord(std::string_view service, std::string_view method,
                                const Principal& principal,
                                const google::protobuf::Message* request, int64_t now_ms,
                                std::string detail = "");

// Every string field named phone, email, contact, chat_id or telegram_chat_id, at any depth,
// becomes "***" and its last two characters ("***67").
void MaskPersonalData(google::protobuf::Message& message);

// Whether method is one of the administrative methods a core audits.
inline bool IsAudited(std::string_view method,
                      std::initializer_list<std::string_view> audited_methods) {
  for (std::string_view m : audited_methods) {
    if (m == method) return true;
  }
  return false;
}

// apply, followed on success by the call's audit record in the same unit of work when the
// method is audited: what each core's idempotent wrapper hands to RunIdempotent. service:
// "accrual"; service_path: "/loyalty.v1.AccrualService/". Used at once: it refers to its
// arguments.
template <typename Response, typename Txn>
std::function<StatusOr<Response>(Txn&)> AuditedApply(
    bool audited, std::string_view service, std::string_view service_path, std::string_view method,
    const Principal& caller, const google::protobuf::Message& request, int64_t now_ms,
    const std::function<StatusOr<Response>(Txn&)>& apply) {
  if (!audited) return apply;
  return [=, &caller, &request, &apply](Txn& txn) -> StatusOr<Response> {
    StatusOr<Response> result = apply(txn);
    if (result.ok()) {
      AppendAudit(txn, MakeAuditRecord(service, std::string(service_path) + std::string(method),
                                       caller, &request, now_ms));
    }
    return result;
  };
}

// In the unit of work of the change.
void AppendAudit(UnitOfWork& work, const v1::AuditRecord& record);
// On its own, durable when it returns.
void WriteAudit(Store& store, const v1::AuditRecord& record);

// Newest first, page_size as every List method (PageSize), filtered by principal if given.
// INVALID_ARGUMENT for a bad page_size or page_token.
StatusOr<v1::ListAuditLogResponse> ListAuditLog(const Store& store,
                                                const v1::ListAuditLogRequest& request);

}  // namespace loyalty
