// The sagas' records: redemptions and checkouts (every unfinished one in memory, and a
// bounded cache of finished ones; the rest read back from the store), the set of unfinished
// sagas that a restart resumes, open checkouts by expiry, the member index of redemptions,
// and the idempotency keys that started each saga.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/principal.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/redemption.pb.h"
#include "loyalty/v1/redemption_internal.pb.h"
#include "services/redemption/core/saga_claims.h"
#include "services/redemption/core/txn.h"

namespace loyalty::redemption {

class SagaBook {
 public:
  // Loads the unfinished sagas and the open checkouts.
  SagaBook(const Store& store, const Clock& clock, size_t cached_finished);

  // The redemption from memory or the store (then cached); nullptr if unknown. Valid while
  // the core's mutex is held and Trim is not called.
  v1::Redemption* FindRedemption(const std::string& redemption_id);
  void PutRedemption(Txn& txn, const v1::Redemption& redemption);
  // A new redemption of member: also listed under the member.
  void AddRedemption(Txn& txn, const v1::Redemption& redemption);
  std::vector<std::string> RedemptionIdsOf(const std::string& member_id) const;

  v1::Checkout* FindCheckout(const std::string& checkout_id,
                             v1::redemptioninternal::CheckoutRecord** record = nullptr);
  void PutCheckout(Txn& txn, const v1::Checkout& checkout);
  // A new checkout whose hold lasts ttl_seconds.
  void AddCheckout(Txn& txn, const v1::Checkout& checkout, int64_t ttl_seconds);
  // The open-checkout index follows a checkout's state: listed by expiry while OPEN.
  void IndexOpenCheckout(Txn& txn, const v1::Checkout& before, const v1::Checkout& after);
  // Open checkouts whose time passed at now, taken off the index.
  std::vector<std::string> TakeExpiredCheckouts(Txn& txn, int64_t now_ms);

  void MarkPending(Txn& txn, const std::string& id);
  void MarkDone(Txn& txn, const std::string& id);
  std::vector<std::string> PendingIds() const { return {pending_.begin(), pending_.end()}; }

  // The saga a key started, "" if new; ALREADY_EXISTS if used with another request.
  StatusOr<std::string> SagaForKey(const char* method, const Principal& caller,
                                   const std::string& key, const std::string& request_bytes) const;
  void RememberSagaKey(Txn& txn, const char* method, const Principal& caller,
                       const std::string& key, const std::string& request_bytes,
                       const std::string& saga_id) const;

  // Drops finished sagas nobody holds from memory once there are twice cached_finished of
  // either. Called where the caller holds no pointer into them.
  void Trim(const SagaClaims& claims);

  size_t cached_redemptions() const { return redemptions_.size(); }
  size_t cached_checkouts() const { return checkouts_.size(); }
  size_t pending() const { return pending_.size(); }
  size_t open_checkouts() const { return open_checkouts_.size(); }

 private:
  const Store& store_;
  const Clock& clock_;
  const size_t cached_finished_;
  std::unordered_map<std::string, v1::Redemption> redemptions_;
  std::unordered_map<std::string, v1::redemptioninternal::CheckoutRecord> checkouts_;
  std::set<std::string> pending_;                             // unfinished saga ids
  std::set<std::pair<int64_t, std::string>> open_checkouts_;  // (expires_at_ms, id)
};

}  // namespace loyalty::redemption
