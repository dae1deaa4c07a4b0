// Vouchers: issued when a redemption completes (one per unit, a donation none), checked and
// used at a till, cancelled with their redemption. Codes are random (voucher_code.h).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/redemption.pb.h"
#include "services/redemption/core/txn.h"

namespace loyalty::redemption {

class VoucherBook {
 public:
  VoucherBook(const Store& store, const Clock& clock, int64_t default_validity_days)
      : store_(store), clock_(clock), default_validity_days_(default_validity_days) {}

  StatusOr<v1::Voucher> Load(const std::string& code) const;
  void Put(Txn& txn, const v1::Voucher& voucher) const;
  // The vouchers of a completed redemption of reward, staged in txn.
  std::vector<v1::Voucher> Issue(Txn& txn, const v1::Redemption& redemption,
                                 const v1::Reward& reward);
  // As shown to people: an active voucher past its date reads EXPIRED.
  v1::Voucher WithDisplayStatus(v1::Voucher voucher) const;
  // Why a voucher cannot be used at store_id now ("" if it can), for ValidateVoucher.
  std::string WhyNotUsable(const v1::Voucher& shown, const v1::Reward& reward,
                           const std::string& store_id) const;
  // The refusal of UseVoucher, naming the request's fields; OK if it may be used.
  Status CheckUse(const v1::Voucher& shown, const v1::Reward* reward,
                  const std::string& store_id) const;

 private:
  const Store& store_;
  const Clock& clock_;
  const int64_t default_validity_days_;
  // Codes' randomness. One for the book rather than one per thread: constructing a
  // random_device probes the CPU (cpuid, a trap to the hypervisor in a VM). Used under the
  // core's mutex.
  std::random_device random_device_;
};

}  // namespace loyalty::redemption
