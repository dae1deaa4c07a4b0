// The referral domain core: codes, attribution of an invitee to a referrer, the anti-fraud
// rules, qualification on the invitee's first qualifying purchase, the bonuses paid through
// accrual and their reversal on a refund. No gRPC or Kafka types here: it takes a Store, an
// Outbox, a Clock and the AccrualClient interface, so tests drive it with a manual clock and
// a fake accrual.
//
// Concurrency: one mutex orders every change of referral's own state; changes are staged
// under it and waited for (group commit) after it is released. Calls to accrual never
// happen under the mutex: GetMember is asked before, awards and reversals are persisted
// steps that RunPendingSteps performs outside it and records afterwards, so a restart
// resumes them and accrual's idempotency keys make each pay exactly once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/accrual_client.h"
#include "common/clock.h"
#include "common/event_stamp.h"
#include "common/input.h"
#include "common/outbox.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/referral.pb.h"
#include "loyalty/v1/referral_internal.pb.h"
#include "services/referral/core/commands.h"
#include "services/referral/core/referral_config.h"

namespace loyalty::referral {

std::vector<std::string> ReferralColumnFamilies();

// Something that happened, reported after it is durable (for metrics).
struct Fact {
  // "applied", "rejected", "held", "qualified", "rewarded", "reversed", "expired",
  // "approved", "points_awarded", "points_reversed", "step_failed"
  std::string kind;
  std::string label;  // rule for rejected/held, role for points, step kind for failures
  int64_t value = 1;  // points for points_*
};

struct StepsResult {
  int done = 0;      // steps accrual confirmed
  int failed = 0;    // refused for good (recorded on the referral)
  int retrying = 0;  // outcome unknown (ShouldRetryAccrualCall): left pending
};

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
  StatusOr<v1::ReferralCode> SetVanityCode(const v1::SetVanityCodeRequest& request);
  StatusOr<v1::Referral> ApplyReferral(const v1::ApplyReferralRequest& request);
  StatusOr<v1::Referral> GetReferral(const std::string& referral_id);
  StatusOr<v1::ReferralStats> GetReferralStats(const std::string& member_id);
  StatusOr<v1::ListReferralsResponse> ListReferrals(const v1::ListReferralsRequest& request);
  StatusOr<v1::ListReferralsResponse> ListHeldReferrals(
      const v1::ListHeldReferralsRequest& request);
  StatusOr<v1::Referral> ApproveReferral(const v1::ReviewReferralRequest& request);
  StatusOr<v1::Referral> RejectReferral(const v1::ReviewReferralRequest& request);

  // Applies records of loyalty.events.v1, each decoded by decode as it comes, with their
  // offsets in one durable write. Records that do not decode become dead-letter records in
  // the same write.
  EventBatchResult ApplyEvents(const std::vector<InputMessage>& batch, const Decoder& decode);
  // The same for input decoded already.
  EventBatchResult ApplyEvents(const std::vector<Input>& inputs);
  std::map<TopicPartition, int64_t> StoredOffsets() const;

  // Performs every due award and reversal step once (accrual calls outside the mutex).
  StepsResult RunPendingSteps();
  size_t PendingWork() const;

 private:
  struct Txn;
  using MemberState = v1::referralinternal::MemberState;

  MemberState* FindMember(const std::string& member_id);
  MemberState& GetOrCreateMember(Txn& txn, const std::string& member_id);
  v1::Referral* FindReferral(const std::string& referral_id);
  void Touch(Txn& txn, const v1::Referral& referral);
  void AddEvent(Txn& txn, const std::string& member_id, v1::LoyaltyEvent event);
  uint64_t Stage(Txn& txn);
  void Finish(uint64_t ticket, Txn& txn);

  template <typename Response, typename Request>
  StatusOr<Response> Idempotent(const char* method, const Request& request, const std::string& key,
                                const std::function<StatusOr<Response>(Txn&)>& apply);

  v1::ReferralCode CodeView(const MemberState& member) const;
  StatusOr<v1::Referral> Review(const char* method, const v1::ReviewReferralRequest& request,
                                bool approve);

  // Rule outcomes at application.
  struct Verdict {
    v1::ReferralStatus status = v1::REFERRAL_STATUS_PENDING;
    std::string reason, detail;
  };
  Verdict Judge(const v1::Member& invitee, const v1::Member& referrer);
  bool ReachesInCycle(const std::string& from, const std::string& target);

  void Reject(Txn& txn, v1::Referral& referral, const std::string& reason,
              const std::string& detail);
  void Hold(Txn& txn, v1::Referral& referral, const std::string& reason, const std::string& detail);
  void Qualify(Txn& txn, v1::Referral& referral);
  void OnPurchase(Txn& txn, MemberState& member, const v1::LoyaltyEvent& event);
  void OnRefund(Txn& txn, MemberState& member, const v1::LoyaltyEvent& event);
  // One batch of input: what it did, and the event ids without a sequence it applied.
  struct EventBatch {
    EventBatchResult result;
    std::unordered_set<std::string> seen_ids;
  };
  // Both ApplyEvents: apply(i, txn, batch) applies the i-th of n records, source(i) is where
  // it came from.
  EventBatchResult ApplyRecords(size_t n, const std::function<const InputMessage&(size_t)>& source,
                                const std::function<void(size_t, Txn&, EventBatch&)>& apply);
  void ApplyCommand(Txn& txn, const InputMessage& source, const Command& command,
                    EventBatch& batch);
  void ApplyEvent(Txn& txn, const v1::LoyaltyEvent& event, EventBatch& batch);

  Store& store_;
  Outbox& outbox_;
  const Clock& clock_;
  AccrualClient& accrual_;
  ReferralConfig config_;
  CommitObserver on_commit_;
  std::function<void()> on_work_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, MemberState> members_;     // loaded on first use
  std::unordered_map<std::string, v1::Referral> referrals_;  // loaded on first use
  // Members whose accrual events matter: invitees and referrers. Everything else on
  // loyalty.events.v1 is skipped without a read or a write.
  std::unordered_set<std::string> followed_;
  std::set<std::string> work_;  // referrals with a pending award or reversal step
  std::map<TopicPartition, int64_t> offsets_;
};

}  // namespace loyalty::referral
