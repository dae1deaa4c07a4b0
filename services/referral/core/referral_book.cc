#include "services/referral/core/referral_book.h"

#include "common/check.h"
#include "common/key_codec.h"

namespace loyalty::referral {
namespace {

std::string ByReferrerPrefix(const std::string& referrer_id) {
  std::string key;
  keys::AppendString(key, referrer_id);
  return key;
}

std::string ByReferrerKey(const v1::Referral& r) {
  std::string key = ByReferrerPrefix(r.referrer_id());
  keys::AppendI64(key, r.applied_at_ms());
  keys::AppendString(key, r.referral_id());
  return key;
}

// The referral id of a by_referrer key after its prefix (the referrer) and time.
std::string IdOfKey(std::string_view key, size_t prefix_size) {
  size_t pos = prefix_size + 8;
  std::string id;
  keys::ReadString(key, pos, id);
  return id;
}

}  // namespace

bool MayMove(v1::ReferralStatus from, v1::ReferralStatus to) {
  switch (from) {
    case v1::REFERRAL_STATUS_PENDING:
      return to == v1::REFERRAL_STATUS_HELD || to == v1::REFERRAL_STATUS_REJECTED ||
             to == v1::REFERRAL_STATUS_QUALIFIED || to == v1::REFERRAL_STATUS_EXPIRED;
    case v1::REFERRAL_STATUS_HELD:
      return to == v1::REFERRAL_STATUS_PENDING || to == v1::REFERRAL_STATUS_REJECTED ||
             to == v1::REFERRAL_STATUS_QUALIFIED || to == v1::REFERRAL_STATUS_EXPIRED;
    case v1::REFERRAL_STATUS_QUALIFIED:
      return to == v1::REFERRAL_STATUS_REWARDED || to == v1::REFERRAL_STATUS_REVERSED;
    case v1::REFERRAL_STATUS_REWARDED:
      return to == v1::REFERRAL_STATUS_REVERSED;
    default:
      return false;  // REJECTED, REVERSED and EXPIRED are final
  }
}

bool HasPendingStep(const v1::Referral& r) {
  for (const auto* side : {&r.referrer(), &r.invitee()}) {
    if (side->award() == v1::STEP_STATE_PENDING || side->reversal() == v1::STEP_STATE_PENDING) {
      return true;
    }
  }
  return false;
}

ReferralBook::ReferralBook(const Store& store, const Clock& clock, MemberBook& members,
                           int64_t cache_bytes)
    : store_(store), clock_(clock), members_(members), cache_(cache_bytes) {
  store_.Scan(cf::kWork, "", "", [&](std::string_view key, std::string_view) {
    work_.emplace(key);
    return true;
  });
}

v1::Referral* ReferralBook::Find(const std::string& referral_id) {
  if (v1::Referral* cached = cache_.Find(referral_id)) return cached;
  std::string value;
  if (referral_id.empty() || !store_.Get(cf::kReferrals, referral_id, &value)) return nullptr;
  v1::Referral record;
  if (!record.ParseFromString(value)) return nullptr;
  return &cache_.Insert(referral_id, std::move(record), static_cast<int64_t>(value.size()));
}

v1::Referral& ReferralBook::Create(Txn& txn, v1::Referral referral) {
  LOYALTY_CHECK(referral.status() == v1::REFERRAL_STATUS_PENDING, "a referral starts pending");
  const std::string id = referral.referral_id();
  v1::Referral& r = cache_.Insert(id, std::move(referral), 0);  // checks that ids are unique
  txn.Put(cf::kByReferrer, ByReferrerKey(r), "");
  return r;
}

void ReferralBook::Touch(Txn& txn, const v1::Referral& referral) {
  txn.dirty_referrals.insert(referral.referral_id());
  bool pending = HasPendingStep(referral);
  bool listed = work_.count(referral.referral_id()) > 0;
  if (pending && !listed) {
    work_.insert(referral.referral_id());
    txn.Put(cf::kWork, referral.referral_id(), "");
    txn.work_added = true;
  } else if (!pending && listed) {
    work_.erase(referral.referral_id());
    txn.Erase(cf::kWork, referral.referral_id());
  }
}

void ReferralBook::Move(v1::Referral& referral, v1::ReferralStatus to) {
  LOYALTY_CHECK(MayMove(referral.status(), to), "referral " + referral.referral_id() +
                                                    ": no move from " +
                                                    v1::ReferralStatus_Name(referral.status()) +
                                                    " to " + v1::ReferralStatus_Name(to));
  referral.set_status(to);
}

void ReferralBook::Hold(Txn& txn, v1::Referral& referral, const std::string& reason,
                        const std::string& detail) {
  Move(referral, v1::REFERRAL_STATUS_HELD);
  referral.set_reason(reason);
  referral.set_reason_detail(detail);
  txn.Put(cf::kHeld, referral.referral_id(), "");
  Touch(txn, referral);
  txn.Note("held", reason);
}

void ReferralBook::Release(Txn& txn, v1::Referral& referral) {
  txn.Erase(cf::kHeld, referral.referral_id());
  Move(referral, v1::REFERRAL_STATUS_PENDING);
  Touch(txn, referral);
}

void ReferralBook::Reject(Txn& txn, v1::Referral& referral, const std::string& reason,
                          const std::string& detail) {
  if (referral.status() == v1::REFERRAL_STATUS_HELD) txn.Erase(cf::kHeld, referral.referral_id());
  Move(referral, v1::REFERRAL_STATUS_REJECTED);
  referral.set_reason(reason);
  referral.set_reason_detail(detail);
  Touch(txn, referral);
  v1::LoyaltyEvent event;
  auto* rejected = event.mutable_referral_rejected();
  rejected->set_referral_id(referral.referral_id());
  rejected->set_referrer_id(referral.referrer_id());
  rejected->set_invitee_id(referral.invitee_id());
  rejected->set_reason(reason);
  Publish(txn, referral.invitee_id(), std::move(event));
  txn.Note("rejected", reason);
}

void ReferralBook::Qualify(Txn& txn, v1::Referral& referral) {
  // A bonus is awarded at most once: it becomes due here, once, from nothing.
  LOYALTY_CHECK(referral.referrer().award() == v1::STEP_STATE_NONE &&
                    referral.invitee().award() == v1::STEP_STATE_NONE,
                "referral " + referral.referral_id() + " qualifies twice");
  if (referral.status() == v1::REFERRAL_STATUS_HELD) txn.Erase(cf::kHeld, referral.referral_id());
  Move(referral, v1::REFERRAL_STATUS_QUALIFIED);
  referral.set_qualified_at_ms(clock_.NowMs());
  referral.mutable_referrer()->set_award(v1::STEP_STATE_PENDING);
  if (referral.invitee().points() > 0) {
    referral.mutable_invitee()->set_award(v1::STEP_STATE_PENDING);
  }
  Touch(txn, referral);
  for (const auto& member_id : {referral.referrer_id(), referral.invitee_id()}) {
    v1::LoyaltyEvent event;
    auto* qualified = event.mutable_referral_qualified();
    qualified->set_referral_id(referral.referral_id());
    qualified->set_referrer_id(referral.referrer_id());
    qualified->set_invitee_id(referral.invitee_id());
    qualified->set_purchase_id(referral.purchase_id());
    Publish(txn, member_id, std::move(event));
  }
  txn.Note("qualified");
}

void ReferralBook::Expire(Txn& txn, v1::Referral& referral, const std::string& detail) {
  if (referral.status() == v1::REFERRAL_STATUS_HELD) txn.Erase(cf::kHeld, referral.referral_id());
  Move(referral, v1::REFERRAL_STATUS_EXPIRED);
  referral.set_reason("expired");
  referral.set_reason_detail(detail);
  Touch(txn, referral);
  txn.Note("expired");
}

void ReferralBook::Reverse(Txn& txn, v1::Referral& referral, const std::string& refund_id) {
  Move(referral, v1::REFERRAL_STATUS_REVERSED);
  referral.set_refund_id(refund_id);
  referral.set_reversed_at_ms(clock_.NowMs());
  // A bonus still being paid is paid first and then reversed: whether an interrupted award
  // reached accrual is only known by completing it under its idempotency key.
  for (auto* side : {referral.mutable_referrer(), referral.mutable_invitee()}) {
    if (side->award() == v1::STEP_STATE_PENDING || side->award() == v1::STEP_STATE_DONE) {
      LOYALTY_CHECK(side->reversal() == v1::STEP_STATE_NONE, "a bonus is reversed at most once");
      side->set_reversal(v1::STEP_STATE_PENDING);
    }
  }
  Touch(txn, referral);
  txn.Note("reversed");
}

void ReferralBook::RewardIfPaid(Txn& txn, v1::Referral& referral) {
  if (referral.status() != v1::REFERRAL_STATUS_QUALIFIED || HasPendingStep(referral)) return;
  Move(referral, v1::REFERRAL_STATUS_REWARDED);
  txn.Note("rewarded");
}

std::vector<std::string> ReferralBook::IdsOfReferrer(const std::string& member_id) const {
  std::vector<std::string> ids;
  const std::string prefix = ByReferrerPrefix(member_id);
  store_.Scan(cf::kByReferrer, prefix, "", [&](std::string_view key, std::string_view) {
    if (key.substr(0, prefix.size()) != prefix) return false;
    ids.push_back(IdOfKey(key, prefix.size()));
    return true;
  });
  return ids;
}

StatusOr<std::string> ReferralBook::PageStart(const std::string& member_id,
                                              const std::string& page_token) const {
  if (page_token.empty()) return ByReferrerPrefix(member_id);
  // The token is the referral id the previous page ended with.
  std::string value;
  v1::Referral last;
  if (!store_.Get(cf::kReferrals, page_token, &value) || !last.ParseFromString(value) ||
      last.referrer_id() != member_id) {
    return InvalidArgument("page_token: not a token of this list");
  }
  std::string from = ByReferrerKey(last);
  from.push_back('\0');  // the key right after the last one listed
  return from;
}

v1::ListReferralsResponse ReferralBook::ListOfReferrer(const std::string& member_id,
                                                       const std::string& from, int page_size) {
  const std::string prefix = ByReferrerPrefix(member_id);
  v1::ListReferralsResponse response;
  std::string last_id;
  store_.Scan(cf::kByReferrer, from, "", [&](std::string_view key, std::string_view) {
    if (key.substr(0, prefix.size()) != prefix) return false;
    std::string id = IdOfKey(key, prefix.size());
    if (response.referrals_size() == page_size) {
      response.set_next_page_token(last_id);
      return false;
    }
    if (v1::Referral* r = Find(id); r != nullptr) *response.add_referrals() = *r;
    last_id = id;
    return true;
  });
  return response;
}

v1::ListReferralsResponse ReferralBook::ListHeld(const std::string& page_token, int page_size) {
  std::string from = page_token;
  if (!from.empty()) from.push_back('\0');
  v1::ListReferralsResponse response;
  std::string last_id;
  store_.Scan(cf::kHeld, from, "", [&](std::string_view key, std::string_view) {
    if (response.referrals_size() == page_size) {
      response.set_next_page_token(last_id);
      return false;
    }
    last_id = std::string(key);
    if (v1::Referral* r = Find(last_id); r != nullptr) *response.add_referrals() = *r;
    return true;
  });
  return response;
}

void ReferralBook::WriteDirty(const Txn& txn, StagedWrite& write) const {
  for (const auto& id : txn.dirty_referrals) {
    const v1::Referral* referral = cache_.Peek(id);
    LOYALTY_CHECK(referral != nullptr, "a dirty referral stays cached until staged");
    write.Put(cf::kReferrals, id, referral->SerializeAsString());
  }
}

void ReferralBook::Staged(const Txn& txn, uint64_t ticket) {
  for (const auto& id : txn.dirty_referrals) cache_.Written(id, ticket);
}

}  // namespace loyalty::referral
