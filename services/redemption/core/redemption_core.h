// The redemption domain core: the rewards catalog, the redeem saga over accrual's holds,
// vouchers, checkout with points and prize draws. No gRPC or Kafka here: it takes a Store, an
// Outbox, a Clock and an AccrualClient (an interface), so tests drive it against a fake.
//
// Concurrency: one mutex orders every local change (stock, limits, vouchers, saga states);
// calls to accrual are made with the mutex released, so a slow accrual never stalls the
// catalog. Stock is reserved under the mutex before accrual is called, so concurrent
// redemptions of the last unit cannot both get it. One saga is driven by one thread at a
// time (an in-flight claim per id).
//
// Durability: every saga step is staged to the store (group commit); the step that must
// survive a crash is waited for before accrual is called or the caller is answered. Accrual
// calls use idempotency keys derived from the saga id ("redemption:<id>:hold", ...), so a
// step re-run after a crash finds the first call's result instead of repeating it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/accrual_client.h"
#include "common/clock.h"
#include "common/event_stamp.h"
#include "common/outbox.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/redemption.pb.h"
#include "loyalty/v1/redemption_internal.pb.h"
#include "services/redemption/core/redemption_config.h"

namespace loyalty::redemption {

std::vector<std::string> RedemptionColumnFamilies();

// Told what happened, after it is durable: metrics and the outbox relay listen here.
class RedemptionObserver {
 public:
  virtual ~RedemptionObserver() = default;
  virtual void Committed() {}
  // outcome: completed, failed, cancelled. points: captured (completed) or returned.
  virtual void RedemptionFinished(v1::RewardKind kind, const std::string& outcome, int64_t points) {
  }
  virtual void VouchersIssued(int64_t count) {}
  virtual void VoucherUsed() {}
  // step: hold, capture, void, award, checkout_hold, checkout_capture, checkout_void, resume
  virtual void SagaStepRetried(const std::string& step) {}
  // outcome: completed, cancelled, expired, failed
  virtual void CheckoutFinished(const std::string& outcome, int64_t points_captured) {}
};

class RedemptionCore {
 public:
  RedemptionCore(Store& store, Outbox& outbox, const Clock& clock, AccrualClient& accrual,
                 RedemptionConfig config, RedemptionObserver* observer = nullptr);

  // Catalog.
  StatusOr<v1::Reward> CreateReward(const v1::CreateRewardRequest& request);
  StatusOr<v1::Reward> UpdateReward(const v1::UpdateRewardRequest& request);
  StatusOr<v1::Reward> GetReward(const std::string& reward_id);
  StatusOr<v1::ListRewardsResponse> ListRewards(const v1::ListRewardsRequest& request);

  // Redeeming and vouchers.
  StatusOr<v1::Redemption> Redeem(const v1::RedeemRequest& request);
  // Redeem for asynchronous callers: done runs with the answer, on another thread. The common
  // case (a new saga of a reward for everyone) holds no thread while it waits for its writes
  // and for accrual; the rest runs Redeem on the blocking runner.
  using RedemptionCallback = std::function<void(StatusOr<v1::Redemption>)>;
  void RedeemAsync(const v1::RedeemRequest& request, RedemptionCallback done);
  // Where RedeemAsync runs blocking work (retries, compensation, audiences that need accrual's
  // view of the member); by default the calling thread.
  void SetBlockingRunner(std::function<void(std::function<void()>)> run) {
    run_blocking_ = std::move(run);
  }
  StatusOr<v1::Redemption> GetRedemption(const std::string& redemption_id);
  StatusOr<v1::ListRedemptionsResponse> ListRedemptions(const std::string& member_id);
  StatusOr<v1::Redemption> CancelRedemption(const v1::CancelRedemptionRequest& request);
  StatusOr<v1::ValidateVoucherResponse> ValidateVoucher(const v1::ValidateVoucherRequest& request);
  StatusOr<v1::Voucher> UseVoucher(const v1::UseVoucherRequest& request);

  // Checkout with points.
  StatusOr<v1::CheckoutQuote> QuoteCheckout(const v1::QuoteCheckoutRequest& request);
  StatusOr<v1::Checkout> StartCheckout(const v1::StartCheckoutRequest& request);
  StatusOr<v1::Checkout> CompleteCheckout(const v1::CompleteCheckoutRequest& request);
  StatusOr<v1::Checkout> CancelCheckout(const v1::CancelCheckoutRequest& request);
  StatusOr<v1::Checkout> GetCheckout(const std::string& checkout_id);

  // Prize draws.
  StatusOr<v1::PrizeDraw> RunPrizeDraw(const v1::RunPrizeDrawRequest& request);
  StatusOr<v1::PrizeDraw> GetPrizeDraw(const std::string& draw_id);

  // Drives every unfinished saga (redemptions and checkouts) one step further, as far as
  // accrual answers; returns how many are still unfinished. Called on start and then
  // periodically by main, directly by tests.
  int ResumePending();
  // Marks open checkouts whose hold has expired as EXPIRED (accrual released the points).
  int ExpireCheckouts();
  int64_t OpenCheckouts() const;
  int64_t PendingSagas() const;
  // Redemptions held in memory (every unfinished one, and a bounded cache of finished ones).
  size_t CachedRedemptions() const;
  size_t CachedCheckouts() const;

 private:
  struct Txn;

  // Local idempotent call (no accrual): the first response is remembered.
  template <typename Response, typename Request>
  StatusOr<Response> Idempotent(const char* method, const Request& request, const std::string& key,
                                const std::function<StatusOr<Response>(Txn&)>& apply);
  // The saga id a key started, "" if new; ALREADY_EXISTS if used with another request.
  StatusOr<std::string> SagaForKey(const char* method, const std::string& key,
                                   const std::string& request_bytes);
  void RememberSagaKey(Txn& txn, const char* method, const std::string& key,
                       const std::string& request_bytes, const std::string& saga_id);

  uint64_t Stage(Txn& txn);
  void Finish(uint64_t ticket);

  // Redeem's steps, shared by the blocking and the asynchronous paths.
  Status CheckRedeemRequest(const v1::RedeemRequest& request) const;
  bool NeedsMember(const std::string& reward_id) const;  // a tier or segment audience
  // The saga of the request's key: a new one reserved (stock and units taken, staged with
  // ticket, claimed for the caller) or, ticket 0, the one a retried key started.
  struct Reservation {
    std::string id;
    uint64_t ticket;
  };
  StatusOr<Reservation> Reserve(const v1::RedeemRequest& request, const v1::Member& member);
  v1::HoldPointsRequest HoldRequest(const std::string& id);
  // Records the hold (staged) and returns the capture to make.
  v1::CaptureHoldRequest MarkHeld(const std::string& id, const v1::Hold& hold);
  struct Completion {
    uint64_t ticket;
    v1::RewardKind kind;
    int64_t points;
    int64_t vouchers;
  };
  // Vouchers, event and the end of the saga, staged; Finish(completion) once durable.
  Completion CompleteRedemption(const std::string& id, const v1::Hold& captured);
  void Finish(const Completion& completion);
  // RedeemAsync once the member is known: reserve, then hold, capture and complete, each step
  // continued by a callback.
  void ReserveAndDrive(const v1::RedeemRequest& request, const v1::Member& member,
                       const RedemptionCallback& done);
  // Hands a claimed saga the asynchronous path cannot finish to DriveRedemption on the runner.
  void DriveBlocking(const std::string& id, const RedemptionCallback& done);

  v1::redemptioninternal::MemberState& Member(const std::string& member_id);
  void AddEvent(Txn& txn, const std::string& member_id, v1::LoyaltyEvent event);
  // The redemption from memory or the store (then cached); nullptr if unknown. The pointer
  // is valid while mu_ is held and TrimRedemptions is not called.
  v1::Redemption* FindRedemption(const std::string& redemption_id);
  // Drops finished, unclaimed redemptions and checkouts from memory once there are twice
  // config_.cached_finished of either. Called where the caller holds no pointer into them.
  void TrimFinished();
  void PutRedemption(Txn& txn, const v1::Redemption& redemption);
  void PutVoucher(Txn& txn, const v1::Voucher& voucher);
  StatusOr<v1::Voucher> LoadVoucher(const std::string& code);
  void ReleaseStock(Txn& txn, const v1::Redemption& redemption);
  std::vector<v1::Voucher> IssueVouchers(Txn& txn, const v1::Redemption& redemption,
                                         const v1::Reward& reward);
  // member: accrual's view (tier, segments); only read for tier and segment audiences.
  Status CheckRedeemable(const v1::Reward& reward, const std::string& member_id,
                         const v1::Member& member, int64_t quantity);
  v1::Voucher WithDisplayStatus(v1::Voucher voucher) const;

  // In-flight claims: one thread drives one saga at a time.
  void Claim(const std::string& id);
  bool TryClaim(const std::string& id);
  // Runs then with the claim taken: at once if the saga is free, else when its holder lets
  // go. Holds no thread meanwhile (a runner thread blocked in Claim could be the one the
  // holder needs).
  void ClaimAsync(const std::string& id, std::function<void()> then);
  void Unclaim(const std::string& id);

  StatusOr<v1::Redemption> DriveRedemption(const std::string& id);
  StatusOr<v1::Checkout> DriveCheckout(const std::string& id);
  // Finishes a redemption as FAILED: stock and per-member units back.
  void FailRedemption(const std::string& id, const Status& why);

  v1::Checkout* FindCheckout(const std::string& checkout_id,
                             v1::redemptioninternal::CheckoutRecord** record = nullptr);
  void PutCheckout(Txn& txn, const v1::Checkout& checkout);
  // CompleteCheckout and CancelCheckout: with the checkout claimed, judge refuses or allows
  // the step under the lock (allowing a retry of the same step too); a new step records its
  // key and points and next_state, then the saga is driven.
  using CheckoutJudge =
      std::function<Status(const v1::Checkout&, const v1::redemptioninternal::CheckoutRecord&)>;
  StatusOr<v1::Checkout> BeginCheckoutStep(const std::string& id, const std::string& key,
                                           int64_t points, v1::CheckoutState next_state,
                                           const CheckoutJudge& judge);

  // Calls accrual, repeating answers of unknown outcome (ShouldRetryAccrualCall) up to
  // config_.accrual_attempts times.
  template <typename T>
  StatusOr<T> CallAccrual(const std::string& step, const std::function<StatusOr<T>()>& call);

  Store& store_;
  Outbox& outbox_;
  const Clock& clock_;
  AccrualClient& accrual_;
  RedemptionConfig config_;
  RedemptionObserver null_observer_;
  RedemptionObserver* observer_;

  mutable std::mutex mu_;
  std::condition_variable claims_cv_;
  std::set<std::string> claimed_;
  std::map<std::string, std::deque<std::function<void()>>> claim_waiters_;
  std::map<std::string, v1::Reward> rewards_;  // the whole catalog, loaded at start
  std::unordered_map<std::string, v1::redemptioninternal::MemberState> members_;
  std::unordered_map<std::string, v1::Redemption> redemptions_;
  std::unordered_map<std::string, v1::redemptioninternal::CheckoutRecord> checkouts_;
  std::set<std::string> pending_;                             // unfinished saga ids
  std::set<std::pair<int64_t, std::string>> open_checkouts_;  // (expires_at_ms, id)
  // Voucher codes' randomness, used under mu_. One for the core rather than one per thread:
  // constructing a random_device probes the CPU (cpuid, a trap to the hypervisor in a VM),
  // and request threads may come and go.
  std::random_device random_device_;
  std::function<void(std::function<void()>)> run_blocking_ = [](std::function<void()> work) {
    work();
  };
};

}  // namespace loyalty::redemption
