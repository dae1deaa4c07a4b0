// The one place where domain Status values and gRPC statuses are translated.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include <functional>

#include "common/status.h"

namespace loyalty {

inline grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), status.message());
}

// gRPC codes the domain has no name for become kUnavailable when a retry may help
// (deadline, cancelled, resource exhausted, aborted) and kInternal otherwise.
inline Status FromGrpc(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return Status::Ok();
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::INTERNAL:
      return {static_cast<Code>(status.error_code()), status.error_message()};
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
      return {Code::kUnavailable, status.error_message()};
    default:
      return {Code::kInternal, status.error_message()};
  }
}

// A handler's whole body: the value into the response, or the Status as the gRPC status.
template <typename T>
grpc::Status Reply(StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

// Reply for a callback handler: what a core calls with its answer, on any thread, to fill
// the response and finish the call.
template <typename T>
std::function<void(StatusOr<T>)> FinishWith(grpc::ServerUnaryReactor* reactor, T* response) {
  return [reactor, response](StatusOr<T> result) {
    reactor->Finish(Reply(std::move(result), response));
  };
}

// A callback handler's whole body: start hands the core its answer callback (FinishWith).
template <typename T, typename Start>
grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, T* response, Start start) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  start(FinishWith(reactor, response));
  return reactor;
}

}  // namespace loyalty
