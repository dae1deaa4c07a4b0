// loyalty.v1.AuditService on every service's gRPC port: the service's own audit log
// (common/audit_log.h), newest first. ServiceRuntime registers it; admin only by the shipped
// policy.
#pragma once

#include "common/store.h"
#include "loyalty/v1/audit.grpc.pb.h"

namespace loyalty {

class AuditGrpcService final : public v1::AuditService::Service {
 public:
  explicit AuditGrpcService(const Store& store) : store_(store) {}
  grpc::Status ListAuditLog(grpc::ServerContext* context, const v1::ListAuditLogRequest* request,
                            v1::ListAuditLogResponse* response) override;

 private:
  const Store& store_;
};

}  // namespace loyalty
