// The accrual domain core, as one facade over small modules: members (MemberBook), the
// Ledger (the only code that changes a balance) with its LotBook, holds (HoldBook), tiers,
// milestones, campaigns, timers, and one flow per input command (purchase, refund,
// activity). No gRPC or Kafka here: it takes a Store, an Outbox and a Clock, so tests drive
// it directly. docs/architecture.md has the module map.
//
// Concurrency: one mutex orders all changes. A change updates the in-memory state, stages
// its writes (ledger, member, dedupe record, outbox events) as one group, releases the
// mutex and waits until the group is durable before it answers. Concurrent callers share
// one synced write (group commit) and a later change is never durable without the ones it
// saw.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/input.h"
#include "common/outbox.h"
#include "common/partitioning.h"
#include "common/principal.h"
#include "common/staged_offsets.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/internal.pb.h"
#include "loyalty/v1/purchases.pb.h"
#include "services/accrual/core/accrual_config.h"
#include "services/accrual/core/activity_flow.h"
#include "services/accrual/core/commands.h"
#include "services/accrual/core/modules.h"
#include "services/accrual/core/purchase_flow.h"
#include "services/accrual/core/refund_flow.h"
#include "services/accrual/core/txn.h"

namespace loyalty::accrual {

inline constexpr char kEventsTopic[] = "loyalty.events.v1";

// The column families accrual keeps.
std::vector<std::string> AccrualColumnFamilies();

class AccrualCore {
 public:
  AccrualCore(Store& store, Outbox& outbox, const Clock& clock, AccrualConfig config);

  // Called after every durable change with the ledger entries it made (wakes the outbox
  // relay, feeds metrics). Retried idempotent calls report nothing.
  using CommitObserver = std::function<void(const std::vector<LedgerFacts>&)>;
  void SetOnCommit(CommitObserver on_commit) { on_commit_ = std::move(on_commit); }
  // Where this instance sits among the service's instances (common/partitioning.h): a
  // generated member id is drawn among the partitions it owns, a hold id beside its member's.
  // Set at start, before any call.
  void SetPlacement(const Placement& placement);

  // Every mutating call names its caller (common/principal.h): the idempotency key is scoped
  // to it, and the ledger entries, events and audit records it makes carry it.
  StatusOr<v1::Member> EnrollMember(const Principal& caller,
                                    const v1::EnrollMemberRequest& request);
  // Each request as EnrollMember (the same idempotency records), one result each, answered
  // once the last is durable: no per-call round trip and fsync for a bulk load.
  StatusOr<v1::EnrollMembersResponse> EnrollMembers(const Principal& caller,
                                                    const v1::EnrollMembersRequest& request);
  StatusOr<v1::Member> GetMember(const std::string& member_id);
  StatusOr<v1::GetBalanceResponse> GetBalance(const std::string& member_id);
  StatusOr<v1::ListLedgerResponse> ListLedger(const v1::ListLedgerRequest& request);
  StatusOr<v1::LedgerEntry> AwardPoints(const Principal& caller,
                                        const v1::AwardPointsRequest& request);
  StatusOr<v1::LedgerEntry> AdjustPoints(const Principal& caller,
                                         const v1::AdjustPointsRequest& request);
  StatusOr<v1::Hold> HoldPoints(const Principal& caller, const v1::HoldPointsRequest& request);
  StatusOr<v1::Hold> CaptureHold(const Principal& caller, const v1::CaptureHoldRequest& request);
  StatusOr<v1::Hold> VoidHold(const Principal& caller, const v1::VoidHoldRequest& request);
  // HoldPoints and CaptureHold for asynchronous callers: they return once the change is
  // staged, and done runs with the answer once it is durable (on the thread that completes
  // the write, so done must not block). The same idempotency keys as the blocking calls.
  using HoldCallback = std::function<void(StatusOr<v1::Hold>)>;
  void HoldPointsAsync(const Principal& caller, const v1::HoldPointsRequest& request,
                       HoldCallback done);
  void CaptureHoldAsync(const Principal& caller, const v1::CaptureHoldRequest& request,
                        HoldCallback done);
  StatusOr<v1::EraseMemberResponse> EraseMember(const Principal& caller,
                                                const v1::EraseMemberRequest& request);

  // Applies records of loyalty.purchases.v1, loyalty.refunds.v1 and loyalty.activities.v1,
  // each decoded by decode as it comes, with their offsets, in one durable write. Records
  // that cannot be applied become dead-letter records in the same write.
  BatchResult ApplyBatch(const std::vector<InputMessage>& batch, const Decoder& decode);
  // The same for input decoded already.
  BatchResult ApplyBatch(const std::vector<Input>& inputs);
  // ApplyBatch's two halves: StageBatch applies under the lock and stages; FinishBatch
  // waits until the batch is durable and reports it. The next batch may be staged before
  // this one is durable: what the core reads back from the store while applying is
  // written visibly (seen once staged), and groups become durable in staging order.
  struct StagedBatch {
    uint64_t ticket = 0;
    BatchResult result;
    std::vector<LedgerFacts> facts;
  };
  StagedBatch StageBatch(const std::vector<InputMessage>& batch, const Decoder& decode);
  StagedBatch StageBatch(const std::vector<Input>& inputs);
  void FinishBatch(const StagedBatch& staged);
  // The offset of the next message to read, per partition, as last made durable.
  std::map<TopicPartition, int64_t> StoredOffsets() const;

  // Releases every open hold whose time has passed; returns how many.
  int ExpireHolds();
  // Runs the timed work that is due: pending releases, lot expiry and reminders, tier
  // reviews, the end of paid memberships. Returns how many timers ran.
  int RunTimers();

  // Campaigns (admin), every change audited with actor and time.
  StatusOr<v1::Campaign> CreateCampaign(const Principal& caller,
                                        const v1::CreateCampaignRequest& request);
  StatusOr<v1::Campaign> UpdateCampaign(const Principal& caller,
                                        const v1::UpdateCampaignRequest& request);
  StatusOr<v1::Campaign> EndCampaign(const Principal& caller,
                                     const v1::EndCampaignRequest& request);
  StatusOr<v1::Campaign> GetCampaign(const std::string& campaign_id);
  v1::ListCampaignsResponse ListCampaigns(bool include_ended);
  StatusOr<v1::ListCampaignAuditResponse> ListCampaignAudit(const std::string& campaign_id);

  StatusOr<v1::Member> SetMemberSegments(const Principal& caller,
                                         const v1::SetMemberSegmentsRequest& request);
  StatusOr<v1::Member> PurchaseMembership(const Principal& caller,
                                          const v1::PurchaseMembershipRequest& request);
  // Exactly what the purchase would earn now, writing nothing.
  StatusOr<v1::SimulatePurchaseResponse> SimulatePurchase(const v1::PurchaseEvent& purchase);
  v1::ListPartnerStatsResponse ListPartnerStats();
  int64_t MemberCount() const;
  RecordCacheStats MemberCacheStats() const;
  int64_t OpenHolds() const;

 private:
  // An idempotent call decided and staged: its answer, to be given once ticket is durable
  // (ticket 0: nothing to wait for, e.g. a refusal).
  template <typename Response>
  struct Decided {
    StatusOr<Response> result;
    uint64_t ticket = 0;
    std::vector<LedgerFacts> facts;
  };
  // Applies a call under the lock and stages it, or finds the remembered response of a
  // retried key.
  template <typename Response, typename Request>
  Decided<Response> Decide(const char* method, const Principal& caller, const Request& request,
                           const std::string& key,
                           const std::function<StatusOr<Response>(Txn&)>& apply);
  // Decide, then wait until the answer is durable.
  template <typename Response, typename Request>
  StatusOr<Response> Idempotent(const char* method, const Principal& caller, const Request& request,
                                const std::string& key,
                                const std::function<StatusOr<Response>(Txn&)>& apply);
  // Runs done with the answer once it is durable, on the thread that completes the write.
  template <typename Response>
  void AnswerWhenDurable(Decided<Response> decided, std::function<void(StatusOr<Response>)> done);
  // Stages what the transaction changed; returns the ticket to wait for.
  uint64_t Stage(Txn& txn);
  void Finish(uint64_t ticket, const std::vector<LedgerFacts>& facts);
  // Stages txn if it changed anything, and waits.
  void StageAndFinish(Txn& txn);

  StatusOr<v1::Member> ApplyEnroll(Txn& txn, const v1::EnrollMemberRequest& request);
  StatusOr<v1::LedgerEntry> ApplyAward(Txn& txn, const v1::AwardPointsRequest& request);
  StatusOr<v1::LedgerEntry> ApplyAdjust(Txn& txn, const v1::AdjustPointsRequest& request);
  StatusOr<v1::Hold> ApplyHold(Txn& txn, const v1::HoldPointsRequest& request);
  StatusOr<v1::EraseMemberResponse> ApplyErase(Txn& txn, const v1::EraseMemberRequest& request);
  // Both StageBatch: apply(i, txn, result) applies the i-th of n records, source(i) is where
  // it came from.
  StagedBatch StageRecords(size_t n, const std::function<const InputMessage&(size_t)>& source,
                           const std::function<void(size_t, Txn&, BatchResult&)>& apply);
  void ApplyCommand(Txn& txn, const InputMessage& source, const Command& command,
                    BatchResult& result);
  v1::Member View(const MemberRecord& member) const;

  Store& store_;
  Outbox& outbox_;
  const Clock& clock_;
  const AccrualConfig config_;
  CommitObserver on_commit_;
  Placement placement_;

  // Every module below is guarded by mu_ (the facade takes it for every call).
  mutable std::mutex mu_;
  MemberBook members_;
  Timers timers_;
  Ledger ledger_;
  Milestones milestones_;
  Tiers tiers_;
  CampaignBook campaigns_;
  PartnerStats partners_;
  HoldBook holds_;
  Modules modules_;
  RefundFlow refund_flow_;
  PurchaseFlow purchase_flow_;
  ActivityFlow activity_flow_;
  StagedOffsets offsets_;  // guarded by mu_
};

}  // namespace loyalty::accrual
