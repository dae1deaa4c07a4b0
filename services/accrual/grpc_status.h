// The one place where domain Status values become gRPC statuses.
#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace loyalty {

inline grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), status.message());
}

}  // namespace loyalty
