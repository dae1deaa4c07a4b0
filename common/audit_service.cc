#include "common/audit_service.h"

#include "common/audit_log.h"
#include "common/field_limits.h"
#include "common/grpc_status.h"

namespace loyalty {

grpc::Status AuditGrpcService::ListAuditLog(grpc::ServerContext*,
                                            const v1::ListAuditLogRequest* request,
                                            v1::ListAuditLogResponse* response) {
  if (Status s = CheckFieldLimits(*request); !s.ok()) return ToGrpc(s);
  auto listed = loyalty::ListAuditLog(store_, *request);
  if (!listed.ok()) return ToGrpc(listed.status());
  *response = std::move(*listed);
  return grpc::Status::OK;
}

}  // namespace loyalty
