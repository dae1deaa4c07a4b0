#include "services/redemption/core/saga_book.h"

#include "common/field_limits.h"
#include "common/idempotent.h"
#include "common/key_codec.h"
#include "services/redemption/core/types.h"

namespace loyalty::redemption {
namespace {

using v1::Checkout;
using v1::Redemption;
using v1::redemptioninternal::CheckoutRecord;
using v1::redemptioninternal::IdempotencyEntry;

std::string MemberRedemptionKey(const std::string& member_id, const std::string& redemption_id) {
  std::string out;
  keys::AppendString(out, member_id);
  keys::AppendString(out, redemption_id);
  return out;
}

bool Finished(const Redemption& r) {
  return r.state() == v1::REDEMPTION_STATE_COMPLETED || r.state() == v1::REDEMPTION_STATE_FAILED ||
         r.state() == v1::REDEMPTION_STATE_CANCELLED;
}

bool Finished(const CheckoutRecord& record) {
  auto state = record.checkout().state();
  return state == v1::CHECKOUT_STATE_COMPLETED || state == v1::CHECKOUT_STATE_CANCELLED ||
         state == v1::CHECKOUT_STATE_EXPIRED || state == v1::CHECKOUT_STATE_FAILED;
}

}  // namespace

SagaBook::SagaBook(const Store& store, const Clock& clock, size_t cached_finished)
    : store_(store), clock_(clock), cached_finished_(cached_finished) {
  store_.Scan(cf::kPending, "", "", [&](std::string_view key, std::string_view) {
    pending_.insert(std::string(key));
    return true;
  });
  store_.Scan(cf::kOpenCheckouts, "", "", [&](std::string_view key, std::string_view value) {
    open_checkouts_.emplace(keys::ReadI64(value), std::string(key));
    return true;
  });
}

Redemption* SagaBook::FindRedemption(const std::string& redemption_id) {
  auto it = redemptions_.find(redemption_id);
  if (it != redemptions_.end()) return &it->second;
  std::string value;
  if (redemption_id.empty() || !store_.Get(cf::kRedemptions, redemption_id, &value)) {
    return nullptr;
  }
  Redemption& r = redemptions_[redemption_id];
  r.ParseFromString(value);
  return &r;
}

void SagaBook::PutRedemption(Txn& txn, const Redemption& redemption) {
  redemptions_[redemption.redemption_id()] = redemption;
  txn.Put(cf::kRedemptions, redemption.redemption_id(), redemption.SerializeAsString(), true);
}

void SagaBook::AddRedemption(Txn& txn, const Redemption& redemption) {
  PutRedemption(txn, redemption);
  txn.Put(cf::kMemberRedemptions,
          MemberRedemptionKey(redemption.member_id(), redemption.redemption_id()), "");
}

std::vector<std::string> SagaBook::RedemptionIdsOf(const std::string& member_id) const {
  std::vector<std::string> ids;
  std::string prefix;
  keys::AppendString(prefix, member_id);
  std::string end = prefix;
  end.back() = '\x02';
  store_.Scan(cf::kMemberRedemptions, prefix, end, [&](std::string_view key, std::string_view) {
    size_t pos = prefix.size();
    std::string id;
    if (keys::ReadString(key, pos, id)) ids.push_back(id);
    return ids.size() < 10000;
  });
  return ids;
}

Checkout* SagaBook::FindCheckout(const std::string& checkout_id, CheckoutRecord** record) {
  auto it = checkouts_.find(checkout_id);
  if (it == checkouts_.end()) {
    std::string value;
    if (checkout_id.empty() || !store_.Get(cf::kCheckouts, checkout_id, &value)) return nullptr;
    it = checkouts_.emplace(checkout_id, CheckoutRecord()).first;
    it->second.ParseFromString(value);
  }
  if (record) *record = &it->second;
  return it->second.mutable_checkout();
}

void SagaBook::PutCheckout(Txn& txn, const Checkout& checkout) {
  CheckoutRecord* record = nullptr;
  if (FindCheckout(checkout.checkout_id(), &record) == nullptr) {
    record = &checkouts_[checkout.checkout_id()];
  }
  *record->mutable_checkout() = checkout;
  txn.Put(cf::kCheckouts, checkout.checkout_id(), record->SerializeAsString(), true);
}

void SagaBook::AddCheckout(Txn& txn, const Checkout& checkout, int64_t ttl_seconds) {
  checkouts_[checkout.checkout_id()].set_ttl_seconds(ttl_seconds);
  PutCheckout(txn, checkout);
}

void SagaBook::IndexOpenCheckout(Txn& txn, const Checkout& before, const Checkout& after) {
  const std::string& id = after.checkout_id();
  open_checkouts_.erase({before.expires_at_ms(), id});
  if (after.state() == v1::CHECKOUT_STATE_OPEN) {
    open_checkouts_.emplace(after.expires_at_ms(), id);
    std::string expires;
    keys::AppendI64(expires, after.expires_at_ms());
    txn.Put(cf::kOpenCheckouts, id, expires);
  } else {
    txn.Erase(cf::kOpenCheckouts, id);
  }
}

std::vector<std::string> SagaBook::TakeExpiredCheckouts(Txn& txn, int64_t now_ms) {
  std::vector<std::string> ids;
  while (!open_checkouts_.empty() && open_checkouts_.begin()->first <= now_ms) {
    ids.push_back(open_checkouts_.begin()->second);
    open_checkouts_.erase(open_checkouts_.begin());
    txn.Erase(cf::kOpenCheckouts, ids.back());
  }
  return ids;
}

void SagaBook::MarkPending(Txn& txn, const std::string& id) {
  txn.Put(cf::kPending, id, "");
  pending_.insert(id);
}

void SagaBook::MarkDone(Txn& txn, const std::string& id) {
  txn.Erase(cf::kPending, id);
  pending_.erase(id);
}

StatusOr<std::string> SagaBook::SagaForKey(const char* method, const Principal& caller,
                                           const std::string& key,
                                           const std::string& request_bytes) const {
  std::string stored;
  if (!store_.Get(cf::kIdempotency, IdempotencyRecordKey(method, caller, key), &stored)) {
    return std::string();
  }
  IdempotencyEntry entry;
  entry.ParseFromString(stored);
  if (entry.request() != request_bytes) {
    return AlreadyExists("idempotency_key: '" + Quote(key) +
                         "' was already used with other arguments");
  }
  return entry.target_id();
}

void SagaBook::RememberSagaKey(Txn& txn, const char* method, const Principal& caller,
                               const std::string& key, const std::string& request_bytes,
                               const std::string& saga_id) const {
  IdempotencyEntry entry;
  entry.set_request(request_bytes);
  entry.set_target_id(saga_id);
  entry.set_created_at_ms(clock_.NowMs());
  txn.Put(cf::kIdempotency, IdempotencyRecordKey(method, caller, key), entry.SerializeAsString(),
          /*visible=*/true);
}

void SagaBook::Trim(const SagaClaims& claims) {
  const size_t keep = cached_finished_;
  auto trim = [&](auto& cache) {
    if (cache.size() <= 2 * keep) return;
    for (auto it = cache.begin(); it != cache.end() && cache.size() > keep;) {
      bool in_use = pending_.count(it->first) != 0 || claims.HeldLocked(it->first);
      it = in_use || !Finished(it->second) ? std::next(it) : cache.erase(it);
    }
  };
  trim(redemptions_);
  trim(checkouts_);
}

}  // namespace loyalty::redemption
