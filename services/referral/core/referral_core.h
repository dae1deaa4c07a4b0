// The referral domain core, as one facade over small modules: codes (CodeBook), members as
// referral knows them (MemberBook), referrals and their state machine (ReferralBook), the
// anti-fraud judgement (judge.h, pure), attribution (Attribution), qualification on accrual's
// purchase and refund events (QualificationFlow), the award saga against accrual
// (AwardSteps), operator review (review.h) and statistics (stats.h). No gRPC or Kafka types
// here: it takes a Store, an Outbox, a Clock and the AccrualClient interface, so tests drive
// it with a manual clock and a fake accrual. docs/architecture.md has the module map.
//
// Concurrency: one mutex orders every change of referral's own state; changes are staged
// under it and waited for (group commit) after it is released. Calls to accrual never
// happen under the mutex: GetMember is asked before, awards and reversals are persisted
// steps that RunPendingSteps performs outside it and records afterwards, so a restart
// resumes them and accrual's idempotency keys make each pay exactly once. (GetReferralStats
// still asks accrual under it for a member referral never heard of; see its comment.)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/accrual_client.h"
#include "common/clock.h"
#include "common/event_stamp.h"  // kEventsTopic, the topic referral reads
#include "common/input.h"
#include "common/outbox.h"
#include "common/principal.h"
#include "common/record_cache.h"
#include "common/staged_offsets.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/referral.pb.h"
#include "services/referral/core/attribution.h"
#include "services/referral/core/award_steps.h"
#include "services/referral/core/code_book.h"
#include "services/referral/core/commands.h"
#include "services/referral/core/member_book.h"
#include "services/referral/core/qualification_flow.h"
#include "services/referral/core/referral_book.h"
#include "services/referral/core/referral_config.h"
#include "services/referral/core/txn.h"
#include "services/referral/core/types.h"

namespace loyalty::referral {

// The column families referral keeps (types.h names each with its owner).
std::vector<std::string> ReferralColumnFamilies();

class ReferralCore {
 public:
  ReferralCore(Store& store, Outbox& outbox, const Clock& clock, AccrualClient& accrual,
               ReferralConfig config);

  using CommitObserver = std::function<void(const std::vector<Fact>&)>;
  // After every durable change (wakes the outbox relay, feeds metrics).
  void SetOnCommit(CommitObserver on_commit) { on_commit_ = std::move(on_commit); }
  // When a step becomes due (wakes the award worker).
  void SetOnWork(std::function<void()> on_work) { on_work_ = std::move(on_work); }

  StatusOr<v1::ReferralCode> GetReferralCode(const std::string& member_id);
  StatusOr<v1::ReferralCode> SetVanityCode(const Principal& caller,
                                           const v1::SetVanityCodeRequest& request);
  StatusOr<v1::Referral> ApplyReferral(const Principal& caller,
                                       const v1::ApplyReferralRequest& request);
  StatusOr<v1::Referral> GetReferral(const std::string& referral_id);
  StatusOr<v1::ReferralStats> GetReferralStats(const std::string& member_id);
  StatusOr<v1::ListReferralsResponse> ListReferrals(const v1::ListReferralsRequest& request);
  StatusOr<v1::ListReferralsResponse> ListHeldReferrals(
      const v1::ListHeldReferralsRequest& request);
  StatusOr<v1::Referral> ApproveReferral(const Principal& caller,
                                         const v1::ReviewReferralRequest& request);
  StatusOr<v1::Referral> RejectReferral(const Principal& caller,
                                        const v1::ReviewReferralRequest& request);

  // Applies records of loyalty.events.v1, each decoded by decode as it comes, with their
  // offsets in one durable write. Records that do not decode become dead-letter records in
  // the same write.
  EventBatchResult ApplyEvents(const std::vector<InputMessage>& batch, const Decoder& decode);
  // The same for input decoded already.
  EventBatchResult ApplyEvents(const std::vector<Input>& inputs);
  std::map<TopicPartition, int64_t> StoredOffsets() const;

  // Performs every due award and reversal step once (accrual calls outside the mutex). One
  // caller at a time (the award worker).
  StepsResult RunPendingSteps();
  size_t PendingWork() const;
  // The bounded caches' counters and sizes, for the metrics.
  RecordCacheStats MemberCacheStats() const;
  RecordCacheStats ReferralCacheStats() const;

 private:
  // Stages the transaction's write, then trims the caches.
  uint64_t Stage(Txn& txn);
  // Lets records over the caches' budgets go: only where no pointer into them is held.
  void TrimCaches();
  void Finish(uint64_t ticket, Txn& txn);

  template <typename Response, typename Request>
  StatusOr<Response> Idempotent(const char* method, const Principal& caller, const Request& request,
                                const std::string& key,
                                const std::function<StatusOr<Response>(Txn&)>& apply);

  StatusOr<v1::Referral> Review(const char* method, const Principal& caller,
                                const v1::ReviewReferralRequest& request, bool approve);
  // Performs one step outside the mutex and records its outcome under it, unless accrual
  // gave none (the step stays pending).
  void RunStep(const Step& step, StepsResult& result);

  // Both ApplyEvents: apply(i, txn, batch) applies the i-th of n records, source(i) is where
  // it came from.
  EventBatchResult ApplyRecords(size_t n, const std::function<const InputMessage&(size_t)>& source,
                                const std::function<void(size_t, Txn&, EventBatch&)>& apply);
  void ApplyCommand(Txn& txn, const InputMessage& source, const Command& command,
                    EventBatch& batch);

  Store& store_;
  Outbox& outbox_;
  const Clock& clock_;
  AccrualClient& accrual_;
  const ReferralConfig config_;
  CommitObserver on_commit_;
  std::function<void()> on_work_;

  // Every module below is guarded by mu_ (the facade takes it for every call that reads or
  // changes them); the modules themselves take no lock.
  mutable std::mutex mu_;
  MemberBook members_;         // guarded by mu_
  CodeBook codes_;             // reads the store only (Owner is asked without mu_)
  ReferralBook referrals_;     // guarded by mu_
  Attribution attribution_;    // guarded by mu_
  QualificationFlow qualify_;  // guarded by mu_
  AwardSteps steps_;           // guarded by mu_ (Perform runs outside it)
  StagedOffsets offsets_;      // guarded by mu_
};

}  // namespace loyalty::referral
