// The redemption domain core, as a facade over modules: the rewards Catalog, MemberStates,
// the VoucherBook, SagaClaims and the SagaBook (redemptions and checkouts); the redeem saga
// over accrual's holds (redeem_saga.cc), checkout with points (checkout_saga.cc) and prize
// draws. No gRPC or Kafka here: it takes a Store, an Outbox, a Clock and an AccrualClient
// (an interface), so tests drive it against a fake.
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

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/accrual_client.h"
#include "common/accrual_retry.h"
#include "common/clock.h"
#include "common/outbox.h"
#include "common/principal.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/redemption.pb.h"
#include "loyalty/v1/redemption_internal.pb.h"
#include "services/redemption/core/catalog.h"
#include "services/redemption/core/member_states.h"
#include "services/redemption/core/redemption_config.h"
#include "services/redemption/core/saga_book.h"
#include "services/redemption/core/saga_claims.h"
#include "services/redemption/core/txn.h"
#include "services/redemption/core/voucher_book.h"

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
  StatusOr<v1::Reward> CreateReward(const Principal& caller,
                                    const v1::CreateRewardRequest& request);
  StatusOr<v1::Reward> UpdateReward(const Principal& caller,
                                    const v1::UpdateRewardRequest& request);
  StatusOr<v1::Reward> GetReward(const std::string& reward_id);
  StatusOr<v1::ListRewardsResponse> ListRewards(const v1::ListRewardsRequest& request);

  // Redeeming and vouchers.
  StatusOr<v1::Redemption> Redeem(const Principal& caller, const v1::RedeemRequest& request);
  // Redeem for asynchronous callers: done runs with the answer, on another thread. The common
  // case (a new saga of a reward for everyone) holds no thread while it waits for its writes
  // and for accrual; the rest runs Redeem on the blocking runner.
  using RedemptionCallback = std::function<void(StatusOr<v1::Redemption>)>;
  void RedeemAsync(const Principal& caller, const v1::RedeemRequest& request,
                   RedemptionCallback done);
  // Where RedeemAsync runs blocking work (retries, compensation, audiences that need accrual's
  // view of the member); by default the calling thread.
  void SetBlockingRunner(std::function<void(std::function<void()>)> run) {
    run_blocking_ = std::move(run);
  }
  StatusOr<v1::Redemption> GetRedemption(const std::string& redemption_id);
  StatusOr<v1::ListRedemptionsResponse> ListRedemptions(const std::string& member_id);
  StatusOr<v1::Redemption> CancelRedemption(const Principal& caller,
                                            const v1::CancelRedemptionRequest& request);
  StatusOr<v1::ValidateVoucherResponse> ValidateVoucher(const v1::ValidateVoucherRequest& request);
  StatusOr<v1::Voucher> UseVoucher(const Principal& caller, const v1::UseVoucherRequest& request);

  // Checkout with points.
  StatusOr<v1::CheckoutQuote> QuoteCheckout(const v1::QuoteCheckoutRequest& request);
  StatusOr<v1::Checkout> StartCheckout(const Principal& caller,
                                       const v1::StartCheckoutRequest& request);
  StatusOr<v1::Checkout> CompleteCheckout(const Principal& caller,
                                          const v1::CompleteCheckoutRequest& request);
  StatusOr<v1::Checkout> CancelCheckout(const Principal& caller,
                                        const v1::CancelCheckoutRequest& request);
  StatusOr<v1::Checkout> GetCheckout(const std::string& checkout_id);

  // Prize draws.
  StatusOr<v1::PrizeDraw> RunPrizeDraw(const Principal& caller,
                                       const v1::RunPrizeDrawRequest& request);
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
  // Local idempotent call (no accrual): the first response is remembered.
  template <typename Response, typename Request>
  StatusOr<Response> Idempotent(const char* method, const Principal& caller, const Request& request,
                                const std::string& key,
                                const std::function<StatusOr<Response>(Txn&)>& apply);
  uint64_t Stage(Txn& txn);
  void Finish(uint64_t ticket);

  // Redeem's steps, shared by the blocking and the asynchronous paths (redeem_saga.cc).
  Status CheckRedeemRequest(const v1::RedeemRequest& request) const;
  bool NeedsMember(const std::string& reward_id) const;  // a tier or segment audience
  // The saga of the request's key: a new one reserved (stock and units taken, staged with
  // ticket, claimed for the caller) or, ticket 0, the one a retried key started.
  struct Reservation {
    std::string id;
    uint64_t ticket;
  };
  StatusOr<Reservation> Reserve(const Principal& caller, const v1::RedeemRequest& request,
                                const v1::Member& member);
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
  void ReserveAndDrive(const Principal& caller, const v1::RedeemRequest& request,
                       const v1::Member& member, const RedemptionCallback& done);
  // Issues the vouchers of a captured hold and answers once that is durable.
  void CompleteAsync(const std::string& id, const v1::Hold& captured,
                     const RedemptionCallback& done);
  void HoldAndComplete(const std::string& id, const RedemptionCallback& done);
  // Hands a claimed saga the asynchronous path cannot finish to DriveRedemption on the runner.
  void DriveBlocking(const std::string& id, const RedemptionCallback& done);
  // Stock back, and the member's units unless a prize draw gave the reward.
  void ReleaseStock(Txn& txn, const v1::Redemption& redemption);
  // Why a completed redemption cannot be cancelled; OK if it can.
  Status CheckCancellable(const v1::Redemption* redemption, const std::string& id) const;

  // Drives a claimed saga as far as accrual answers. Each step returns the answer to give,
  // or nothing when the saga moved on to its next state.
  using Step = std::optional<StatusOr<v1::Redemption>>;
  StatusOr<v1::Redemption> DriveRedemption(const std::string& id);
  Step StepReserved(const std::string& id);
  Step StepHeld(const v1::Redemption& r);
  Step StepCompensating(const v1::Redemption& r);
  Step StepCancelling(const v1::Redemption& r);
  // Finishes a redemption as FAILED: stock and per-member units back.
  void FailRedemption(const std::string& id, const Status& why);

  // Checkout's saga (checkout_saga.cc): one accrual call per state, then the next state.
  StatusOr<v1::Checkout> DriveCheckout(const std::string& id);
  struct CheckoutMove {
    v1::Checkout next;
    int32_t failure_code = 0;
    std::string outcome;  // for the observer; "" while the checkout is open
  };
  // The call a checkout in state OPENING, COMPLETING or CANCELLING makes, and where it leads;
  // a status when accrual did not answer.
  StatusOr<CheckoutMove> MoveCheckout(const v1::Checkout& c,
                                      const v1::redemptioninternal::CheckoutRecord& record);
  // CompleteCheckout and CancelCheckout: with the checkout claimed, judge refuses or allows
  // the step under the lock (allowing a retry of the same step too); a new step records its
  // key and points and next_state, then the saga is driven.
  using CheckoutJudge =
      std::function<Status(const v1::Checkout&, const v1::redemptioninternal::CheckoutRecord&)>;
  StatusOr<v1::Checkout> BeginCheckoutStep(const Principal& caller, const std::string& id,
                                           const std::string& key, int64_t points,
                                           v1::CheckoutState next_state,
                                           const CheckoutJudge& judge);
  Status CheckStartCheckout(const v1::StartCheckoutRequest& request, int64_t ttl) const;

  // Prize draws: the winners' redemptions, vouchers and events, staged in txn.
  StatusOr<v1::PrizeDraw> ApplyDraw(Txn& txn, const v1::RunPrizeDrawRequest& request,
                                    const std::string& seed,
                                    const std::vector<std::string>& entrants,
                                    const std::vector<std::string>& winners,
                                    std::vector<v1::Voucher>& issued, v1::RewardKind& kind);
  void AwardPrize(Txn& txn, v1::PrizeDraw& draw, const v1::Reward& reward,
                  const std::string& member_id, std::vector<v1::Voucher>& issued);

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

  // Every module below is guarded by mu_ (SagaClaims takes it itself for its waiting calls).
  mutable std::mutex mu_;
  MemberStates members_;
  Catalog catalog_;
  VoucherBook vouchers_;
  SagaClaims claims_;
  SagaBook sagas_;
  std::function<void(std::function<void()>)> run_blocking_ = [](std::function<void()> work) {
    work();
  };
};

template <typename T>
StatusOr<T> RedemptionCore::CallAccrual(const std::string& step,
                                        const std::function<StatusOr<T>()>& call) {
  for (int attempt = 1;; ++attempt) {
    StatusOr<T> result = call();
    bool retry = ShouldRetryAccrualCall(result.status());  // false for a success
    if (!retry || attempt >= config_.accrual_attempts) {
      if (retry) observer_->SagaStepRetried(step);
      return result;
    }
    observer_->SagaStepRetried(step);
  }
}

}  // namespace loyalty::redemption
