#include "services/accrual/grpc_service.h"

#include "common/grpc_status.h"

namespace loyalty::accrual {
namespace {

template <typename T>
grpc::Status Reply(StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status AccrualGrpcService::EnrollMember(grpc::ServerContext*,
                                              const v1::EnrollMemberRequest* request,
                                              v1::Member* response) {
  return Reply(core_.EnrollMember(*request), response);
}

grpc::Status AccrualGrpcService::GetMember(grpc::ServerContext*,
                                           const v1::GetMemberRequest* request,
                                           v1::Member* response) {
  return Reply(core_.GetMember(request->member_id()), response);
}

grpc::Status AccrualGrpcService::GetBalance(grpc::ServerContext*,
                                            const v1::GetBalanceRequest* request,
                                            v1::GetBalanceResponse* response) {
  return Reply(core_.GetBalance(request->member_id()), response);
}

grpc::Status AccrualGrpcService::ListLedger(grpc::ServerContext*,
                                            const v1::ListLedgerRequest* request,
                                            v1::ListLedgerResponse* response) {
  return Reply(core_.ListLedger(*request), response);
}

grpc::Status AccrualGrpcService::AwardPoints(grpc::ServerContext*,
                                             const v1::AwardPointsRequest* request,
                                             v1::LedgerEntry* response) {
  return Reply(core_.AwardPoints(*request), response);
}

grpc::Status AccrualGrpcService::AdjustPoints(grpc::ServerContext*,
                                              const v1::AdjustPointsRequest* request,
                                              v1::LedgerEntry* response) {
  return Reply(core_.AdjustPoints(*request), response);
}

grpc::Status AccrualGrpcService::HoldPoints(grpc::ServerContext*,
                                            const v1::HoldPointsRequest* request,
                                            v1::Hold* response) {
  return Reply(core_.HoldPoints(*request), response);
}

grpc::Status AccrualGrpcService::CaptureHold(grpc::ServerContext*,
                                             const v1::CaptureHoldRequest* request,
                                             v1::Hold* response) {
  return Reply(core_.CaptureHold(*request), response);
}

grpc::Status AccrualGrpcService::VoidHold(grpc::ServerContext*, const v1::VoidHoldRequest* request,
                                          v1::Hold* response) {
  return Reply(core_.VoidHold(*request), response);
}

grpc::Status AccrualGrpcService::EraseMember(grpc::ServerContext*,
                                             const v1::EraseMemberRequest* request,
                                             v1::EraseMemberResponse* response) {
  return Reply(core_.EraseMember(*request), response);
}

}  // namespace loyalty::accrual
