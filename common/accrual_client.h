// The accrual service as other services see it: the calls they spend, give back and read
// points with. An interface, so that cores are tested against a fake and link no gRPC;
// GrpcAccrualClient (common/grpc_accrual_client.h) is the real one. Every mutating request carries
// the caller's idempotency key, so a retry after kUnavailable is always safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "loyalty/v1/accrual.pb.h"

namespace loyalty {

class AccrualClient {
 public:
  virtual ~AccrualClient() = default;
  virtual StatusOr<v1::Hold> HoldPoints(const v1::HoldPointsRequest& request) = 0;
  virtual StatusOr<v1::Hold> CaptureHold(const v1::CaptureHoldRequest& request) = 0;
  virtual StatusOr<v1::Hold> VoidHold(const v1::VoidHoldRequest& request) = 0;
  virtual StatusOr<v1::LedgerEntry> AwardPoints(const v1::AwardPointsRequest& request) = 0;
  virtual StatusOr<v1::LedgerEntry> AdjustPoints(const v1::AdjustPointsRequest& request) = 0;
  virtual StatusOr<v1::GetBalanceResponse> GetBalance(const std::string& member_id) = 0;
  virtual StatusOr<v1::Member> GetMember(const std::string& member_id) = 0;
  virtual StatusOr<v1::ListLedgerResponse> ListLedger(const v1::ListLedgerRequest& request) = 0;

  // Hold and capture without blocking the caller: done runs with the answer, possibly on
  // another thread, and must not block. By default the blocking call, then done.
  using HoldCallback = std::function<void(StatusOr<v1::Hold>)>;
  virtual void HoldPointsAsync(const v1::HoldPointsRequest& request, HoldCallback done) {
    done(HoldPoints(request));
  }
  virtual void CaptureHoldAsync(const v1::CaptureHoldRequest& request, HoldCallback done) {
    done(CaptureHold(request));
  }
};

}  // namespace loyalty
