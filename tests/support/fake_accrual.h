// An in-memory AccrualClient for the unit tests of the services that call accrual
// (redemption's sagas, referral's bonuses, notification's bot): members and balances, holds
// that expire on the test's clock, awards and adjustments, a ledger to list, idempotency keys
// remembered per method like the real service, and switchable failures: be unavailable, or
// apply a call and lose its answer (the response that a crash or a timeout swallows).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/accrual_client.h"
#include "common/clock.h"
#include "common/ids.h"

namespace loyalty::testing {

class FakeAccrual : public AccrualClient {
 public:
  explicit FakeAccrual(const Clock& clock) : clock_(clock) {}

  // Failure switches, per method name ("HoldPoints", "CaptureHold", "VoidHold", "AwardPoints",
  // "AdjustPoints"): the next `times` calls are answered UNAVAILABLE without doing anything ...
  void Unavailable(const std::string& method, int times) {
    std::lock_guard lock(mu_);
    unavailable_[method] = times;
  }
  // ... or are applied and then answered UNAVAILABLE (the answer is lost on the way).
  void LoseAnswer(const std::string& method, int times) {
    std::lock_guard lock(mu_);
    lose_answer_[method] = times;
  }
  // An accrual of an earlier version: HoldPointsRequest.capture is an unknown field to it, so
  // holds always come back OPEN and the caller captures in a second call.
  void IgnoreCaptureWithHold() {
    std::lock_guard lock(mu_);
    ignore_capture_ = true;
  }
  // Every call but ListLedger answered UNAVAILABLE while down.
  void SetAllUnavailable(bool down) {
    std::lock_guard lock(mu_);
    all_down_ = down;
  }

  // Members: an active one with a balance, or one as given (contacts, status, enrolment).
  void AddMember(const std::string& id, int64_t available, const std::string& tier = "Bronze") {
    std::lock_guard lock(mu_);
    auto& m = members_[id];
    m.set_member_id(id);
    m.set_tier(tier);
    m.set_status(v1::MEMBER_STATUS_ACTIVE);
    m.mutable_balance()->set_available(available);
  }
  void PutMember(const v1::Member& member) {
    std::lock_guard lock(mu_);
    members_[member.member_id()] = member;
  }
  void SetStatus(const std::string& id, v1::MemberStatus status) {
    std::lock_guard lock(mu_);
    members_[id].set_status(status);
  }
  void SetSegments(const std::string& id, std::vector<std::string> segments) {
    std::lock_guard lock(mu_);
    members_[id].mutable_segments()->Assign(segments.begin(), segments.end());
  }
  void SetBalance(const std::string& id, const v1::Balance& balance) {
    std::lock_guard lock(mu_);
    *members_[id].mutable_balance() = balance;
  }
  // What ListLedger answers for the member, oldest first.
  void AddLedgerEntry(const std::string& id, v1::LedgerEntry entry) {
    std::lock_guard lock(mu_);
    entry.set_member_id(id);
    ledger_[id].push_back(std::move(entry));
  }

  v1::Balance Balance(const std::string& id) {
    std::lock_guard lock(mu_);
    ExpireLocked();
    return members_[id].balance();
  }
  // Calls made to a method, answered or not.
  int calls(const std::string& method) {
    std::lock_guard lock(mu_);
    return calls_[method];
  }
  int open_holds() {
    std::lock_guard lock(mu_);
    ExpireLocked();
    int n = 0;
    for (auto& [id, h] : holds_) n += h.status() == v1::HOLD_STATUS_OPEN;
    return n;
  }
  // Points awarded per AwardPointsRequest.source.
  int64_t awarded(const std::string& source) {
    std::lock_guard lock(mu_);
    return awarded_sources_[source];
  }
  // The net points that awards and adjustments gave each member (absent: none ever applied).
  std::map<std::string, int64_t> credited() {
    std::lock_guard lock(mu_);
    return credited_;
  }
  // The requests applied, by idempotency key (a retry is not applied twice).
  std::map<std::string, v1::AwardPointsRequest> awards() {
    std::lock_guard lock(mu_);
    return awards_;
  }
  std::map<std::string, v1::AdjustPointsRequest> adjustments() {
    std::lock_guard lock(mu_);
    return adjustments_;
  }

  StatusOr<v1::Hold> HoldPoints(const v1::HoldPointsRequest& r) override {
    return Call<v1::Hold>("HoldPoints", r, r.idempotency_key(), [&]() -> StatusOr<v1::Hold> {
      auto it = members_.find(r.member_id());
      if (it == members_.end())
        return NotFound("member_id: member '" + r.member_id() + "' not found");
      v1::Balance& b = *it->second.mutable_balance();
      if (r.points() <= 0) return InvalidArgument("points: must be positive");
      if (r.points() > b.available()) {
        return FailedPrecondition("points: " + std::to_string(r.points()) + " requested but only " +
                                  std::to_string(b.available()) + " available");
      }
      v1::Hold h;
      h.set_hold_id(NewId("h", clock_.NowMs()));
      h.set_member_id(r.member_id());
      h.set_points(r.points());
      b.set_available(b.available() - r.points());
      if (r.capture() && !ignore_capture_) {
        b.set_lifetime_spent(b.lifetime_spent() + r.points());
        h.set_captured(r.points());
        h.set_status(v1::HOLD_STATUS_CAPTURED);
      } else {
        b.set_held(b.held() + r.points());
        h.set_status(v1::HOLD_STATUS_OPEN);
      }
      h.set_expires_at_ms(clock_.NowMs() + (r.ttl_seconds() ? r.ttl_seconds() : 900) * 1000);
      holds_[h.hold_id()] = h;
      return h;
    });
  }
  StatusOr<v1::Hold> CaptureHold(const v1::CaptureHoldRequest& r) override {
    return Call<v1::Hold>("CaptureHold", r, r.idempotency_key(), [&]() -> StatusOr<v1::Hold> {
      auto it = holds_.find(r.hold_id());
      if (it == holds_.end()) return NotFound("hold_id: not found");
      v1::Hold& h = it->second;
      if (h.status() != v1::HOLD_STATUS_OPEN) {
        return FailedPrecondition("hold_id: hold is " + v1::HoldStatus_Name(h.status()));
      }
      int64_t points = r.points() == 0 ? h.points() : r.points();
      if (points > h.points()) return InvalidArgument("points: exceeds the hold");
      v1::Balance& b = *members_[h.member_id()].mutable_balance();
      b.set_held(b.held() - h.points());
      b.set_available(b.available() + h.points() - points);
      b.set_lifetime_spent(b.lifetime_spent() + points);
      h.set_captured(points);
      h.set_status(v1::HOLD_STATUS_CAPTURED);
      return h;
    });
  }
  StatusOr<v1::Hold> VoidHold(const v1::VoidHoldRequest& r) override {
    return Call<v1::Hold>("VoidHold", r, r.idempotency_key(), [&]() -> StatusOr<v1::Hold> {
      auto it = holds_.find(r.hold_id());
      if (it == holds_.end()) return NotFound("hold_id: not found");
      v1::Hold& h = it->second;
      if (h.status() != v1::HOLD_STATUS_OPEN) {
        return FailedPrecondition("hold_id: hold is " + v1::HoldStatus_Name(h.status()));
      }
      Release(h, v1::HOLD_STATUS_VOIDED);
      return h;
    });
  }
  StatusOr<v1::LedgerEntry> AwardPoints(const v1::AwardPointsRequest& r) override {
    return Call<v1::LedgerEntry>("AwardPoints", r, r.idempotency_key(),
                                 [&]() -> StatusOr<v1::LedgerEntry> {
                                   auto it = members_.find(r.member_id());
                                   if (it == members_.end())
                                     return NotFound("member_id: not found");
                                   if (it->second.status() == v1::MEMBER_STATUS_ERASED)
                                     return FailedPrecondition("erased");
                                   v1::Balance& b = *it->second.mutable_balance();
                                   b.set_available(b.available() + r.points());
                                   awards_[r.idempotency_key()] = r;
                                   awarded_sources_[r.source()] += r.points();
                                   credited_[r.member_id()] += r.points();
                                   v1::LedgerEntry e;
                                   e.set_member_id(r.member_id());
                                   e.set_available_delta(r.points());
                                   return e;
                                 });
  }
  StatusOr<v1::LedgerEntry> AdjustPoints(const v1::AdjustPointsRequest& r) override {
    return Call<v1::LedgerEntry>("AdjustPoints", r, r.idempotency_key(),
                                 [&]() -> StatusOr<v1::LedgerEntry> {
                                   auto it = members_.find(r.member_id());
                                   if (it == members_.end())
                                     return NotFound("member_id: not found");
                                   v1::Balance& b = *it->second.mutable_balance();
                                   b.set_available(b.available() + r.delta());
                                   adjustments_[r.idempotency_key()] = r;
                                   credited_[r.member_id()] += r.delta();
                                   v1::LedgerEntry e;
                                   e.set_member_id(r.member_id());
                                   e.set_available_delta(r.delta());
                                   return e;
                                 });
  }
  StatusOr<v1::GetBalanceResponse> GetBalance(const std::string& member_id) override {
    std::lock_guard lock(mu_);
    ++calls_["GetBalance"];
    ExpireLocked();
    if (all_down_) return Status(Code::kUnavailable, "accrual down");
    auto it = members_.find(member_id);
    if (it == members_.end()) return NotFound("member_id: member '" + member_id + "' not found");
    v1::GetBalanceResponse out;
    out.set_member_id(member_id);
    out.set_tier(it->second.tier());
    *out.mutable_balance() = it->second.balance();
    return out;
  }
  StatusOr<v1::Member> GetMember(const std::string& member_id) override {
    std::lock_guard lock(mu_);
    ++calls_["GetMember"];
    ExpireLocked();
    if (all_down_) return Status(Code::kUnavailable, "accrual down");
    auto it = members_.find(member_id);
    if (it == members_.end()) return NotFound("member_id: member '" + member_id + "' not found");
    return it->second;
  }
  StatusOr<v1::ListLedgerResponse> ListLedger(const v1::ListLedgerRequest& r) override {
    std::lock_guard lock(mu_);
    ++calls_["ListLedger"];
    v1::ListLedgerResponse out;
    for (const auto& e : ledger_[r.member_id()]) {
      if (r.page_size() > 0 && out.entries_size() >= r.page_size()) break;
      *out.add_entries() = e;
    }
    return out;
  }

 private:
  template <typename T, typename Request>
  StatusOr<T> Call(const std::string& method, const Request& request, const std::string& key,
                   const std::function<StatusOr<T>()>& apply) {
    std::lock_guard lock(mu_);
    ++calls_[method];
    ExpireLocked();
    if (all_down_) return Status(Code::kUnavailable, "accrual down");
    if (unavailable_[method] > 0) {
      --unavailable_[method];
      return Status(Code::kUnavailable, method + " unavailable");
    }
    if (key.empty()) return InvalidArgument("idempotency_key: required");
    std::string dedupe = method + "|" + key;
    auto seen = remembered_.find(dedupe);
    T response;
    if (seen != remembered_.end()) {
      if (seen->second.first != request.SerializeAsString()) {
        return AlreadyExists("idempotency_key: used with other arguments");
      }
      response.ParseFromString(seen->second.second);
    } else {
      StatusOr<T> result = apply();
      if (!result.ok()) return result;  // refusals are not remembered, as in accrual
      response = *result;
      remembered_[dedupe] = {request.SerializeAsString(), response.SerializeAsString()};
    }
    if (lose_answer_[method] > 0) {
      --lose_answer_[method];
      return Status(Code::kUnavailable, method + " answer lost");
    }
    return response;
  }

  void Release(v1::Hold& h, v1::HoldStatus status) {
    v1::Balance& b = *members_[h.member_id()].mutable_balance();
    b.set_held(b.held() - h.points());
    b.set_available(b.available() + h.points());
    h.set_status(status);
  }
  void ExpireLocked() {
    for (auto& [id, h] : holds_) {
      if (h.status() == v1::HOLD_STATUS_OPEN && clock_.NowMs() >= h.expires_at_ms()) {
        Release(h, v1::HOLD_STATUS_EXPIRED);
      }
    }
  }

  const Clock& clock_;
  std::mutex mu_;
  bool all_down_ = false;
  bool ignore_capture_ = false;
  std::map<std::string, int> unavailable_, lose_answer_, calls_;
  std::map<std::string, v1::Member> members_;
  std::map<std::string, v1::Hold> holds_;
  std::map<std::string, std::vector<v1::LedgerEntry>> ledger_;
  std::map<std::string, std::pair<std::string, std::string>> remembered_;
  std::map<std::string, int64_t> awarded_sources_, credited_;
  std::map<std::string, v1::AwardPointsRequest> awards_;
  std::map<std::string, v1::AdjustPointsRequest> adjustments_;
};

}  // namespace loyalty::testing
