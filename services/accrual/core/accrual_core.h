// The accrual domain core: members, the points ledger, earning from purchases, claw-back
// from refunds, and two-phase holds. No gRPC or Kafka here: it takes a Store, an Outbox and
// a Clock, so tests drive it directly.
//
// Concurrency: one mutex orders all changes. A change updates the in-memory state, stages
// its writes (ledger, member, dedupe record, outbox events) as one group, releases the
// mutex and waits until the group is durable before it answers. Concurrent callers share
// one synced write (group commit) and a later change is never durable without the ones it
// saw.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/input.h"
#include "common/outbox.h"
#include "common/status.h"
#include "common/store.h"
#include "loyalty/v1/accrual.pb.h"
#include "loyalty/v1/events.pb.h"
#include "loyalty/v1/internal.pb.h"
#include "loyalty/v1/purchases.pb.h"
#include "services/accrual/core/accrual_config.h"

namespace loyalty::accrual {

inline constexpr char kPurchasesTopic[] = "loyalty.purchases.v1";
inline constexpr char kRefundsTopic[] = "loyalty.refunds.v1";
inline constexpr char kActivitiesTopic[] = "loyalty.activities.v1";
inline constexpr char kEventsTopic[] = "loyalty.events.v1";

// The column families accrual keeps.
std::vector<std::string> AccrualColumnFamilies();

// The points moved by one ledger entry, reported after it is durable (for metrics).
struct LedgerFacts {
  v1::LedgerKind kind = v1::LEDGER_KIND_UNSPECIFIED;
  int64_t points = 0;  // earned, clawed back, awarded, adjusted (signed), held, captured, released
  std::string source;  // for awards: welcome, referral, ...
};

// What one batch of input messages did, for metrics and tests.
struct BatchResult {
  int64_t purchases_applied = 0;
  int64_t refunds_applied = 0;
  int64_t refunds_parked = 0;  // waiting for their purchase
  int64_t duplicates = 0;
  int64_t non_member_purchases = 0;
  int64_t repeat_purchases = 0;    // by members who had bought before (repeat-purchase rate)
  int64_t member_spend_minor = 0;  // for members' vs non-members' spend
  int64_t non_member_spend_minor = 0;
  int64_t points_earned = 0;  // base points of applied purchases
  int64_t points_clawed_back = 0;
  int64_t activities_applied = 0;
  std::map<std::string, int64_t> dead_lettered;  // by "<topic>|<reason kind>"
};

class AccrualCore {
 public:
  AccrualCore(Store& store, Outbox& outbox, const Clock& clock, AccrualConfig config);

  // Called after every durable change with the ledger entries it made (wakes the outbox
  // relay, feeds metrics). Retried idempotent calls report nothing.
  using CommitObserver = std::function<void(const std::vector<LedgerFacts>&)>;
  void SetOnCommit(CommitObserver on_commit) { on_commit_ = std::move(on_commit); }

  StatusOr<v1::Member> EnrollMember(const v1::EnrollMemberRequest& request);
  StatusOr<v1::Member> GetMember(const std::string& member_id);
  StatusOr<v1::GetBalanceResponse> GetBalance(const std::string& member_id);
  StatusOr<v1::ListLedgerResponse> ListLedger(const v1::ListLedgerRequest& request);
  StatusOr<v1::LedgerEntry> AwardPoints(const v1::AwardPointsRequest& request);
  StatusOr<v1::LedgerEntry> AdjustPoints(const v1::AdjustPointsRequest& request);
  StatusOr<v1::Hold> HoldPoints(const v1::HoldPointsRequest& request);
  StatusOr<v1::Hold> CaptureHold(const v1::CaptureHoldRequest& request);
  StatusOr<v1::Hold> VoidHold(const v1::VoidHoldRequest& request);
  // HoldPoints and CaptureHold for asynchronous callers: they return once the change is
  // staged, and done runs with the answer once it is durable (on the thread that completes
  // the write, so done must not block). The same idempotency keys as the blocking calls.
  using HoldCallback = std::function<void(StatusOr<v1::Hold>)>;
  void HoldPointsAsync(const v1::HoldPointsRequest& request, HoldCallback done);
  void CaptureHoldAsync(const v1::CaptureHoldRequest& request, HoldCallback done);
  StatusOr<v1::EraseMemberResponse> EraseMember(const v1::EraseMemberRequest& request);

  // Applies messages of loyalty.purchases.v1 and loyalty.refunds.v1, with their offsets,
  // in one durable write. Bad messages become dead-letter records in the same write.
  BatchResult ApplyBatch(const std::vector<InputMessage>& messages);
  // ApplyBatch's two halves: StageBatch applies under the lock and stages; FinishBatch
  // waits until the batch is durable and reports it. The next batch may be staged before
  // this one is durable: what the core reads back from the store while applying is
  // written visibly (seen once staged), and groups become durable in staging order.
  struct StagedBatch {
    uint64_t ticket = 0;
    BatchResult result;
    std::vector<LedgerFacts> facts;
  };
  StagedBatch StageBatch(const std::vector<InputMessage>& messages);
  void FinishBatch(const StagedBatch& staged);
  // The offset of the next message to read, per partition, as last made durable.
  std::map<TopicPartition, int64_t> StoredOffsets() const;

  // Releases every open hold whose time has passed; returns how many.
  int ExpireHolds();
  // Runs the timed work that is due: pending releases, lot expiry and reminders, tier
  // reviews, the end of paid memberships. Returns how many timers ran.
  int RunTimers();

  // Campaigns (admin), every change audited with actor and time.
  StatusOr<v1::Campaign> CreateCampaign(const v1::CreateCampaignRequest& request);
  StatusOr<v1::Campaign> UpdateCampaign(const v1::UpdateCampaignRequest& request);
  StatusOr<v1::Campaign> EndCampaign(const v1::EndCampaignRequest& request);
  StatusOr<v1::Campaign> GetCampaign(const std::string& campaign_id);
  v1::ListCampaignsResponse ListCampaigns(bool include_ended);
  StatusOr<v1::ListCampaignAuditResponse> ListCampaignAudit(const std::string& campaign_id);

  StatusOr<v1::Member> SetMemberSegments(const v1::SetMemberSegmentsRequest& request);
  StatusOr<v1::Member> PurchaseMembership(const v1::PurchaseMembershipRequest& request);
  // Exactly what the purchase would earn now, writing nothing.
  StatusOr<v1::SimulatePurchaseResponse> SimulatePurchase(const v1::PurchaseEvent& purchase);
  v1::ListPartnerStatsResponse ListPartnerStats();
  int64_t MemberCount() const;
  int64_t OpenHolds() const;

 private:
  struct Txn;
  using MemberRecord = v1::internal::MemberRecord;

  MemberRecord* FindMember(const std::string& member_id);
  StatusOr<MemberRecord*> FindActiveMember(const std::string& field, const std::string& id);
  const TierRule& TierOf(const MemberRecord& member) const;

  // Appends a ledger entry (sequence, time and balance filled in) and its event.
  v1::LedgerEntry AddEntry(Txn& txn, MemberRecord& member, v1::LedgerEntry entry,
                           v1::LoyaltyEvent event, std::string source = "");
  void AddEvent(Txn& txn, MemberRecord& member, v1::LoyaltyEvent event);
  // Stages the transaction; returns the ticket to wait for.
  uint64_t Stage(Txn& txn);
  void Finish(uint64_t ticket, const std::vector<LedgerFacts>& facts);

  // An idempotent call decided and staged: its answer, to be given once ticket is durable
  // (ticket 0: nothing to wait for, e.g. a refusal).
  template <typename Response>
  struct Decided {
    Decided(StatusOr<Response> result, uint64_t ticket = 0, std::vector<LedgerFacts> facts = {})
        : result(std::move(result)), ticket(ticket), facts(std::move(facts)) {}
    StatusOr<Response> result;
    uint64_t ticket;
    std::vector<LedgerFacts> facts;
  };
  // Applies a call under the lock and stages it, or finds the remembered response of a
  // retried key.
  template <typename Response, typename Request>
  Decided<Response> Decide(const char* method, const Request& request, const std::string& key,
                           const std::function<StatusOr<Response>(Txn&)>& apply);
  // Decide, then wait until the answer is durable.
  template <typename Response, typename Request>
  StatusOr<Response> Idempotent(const char* method, const Request& request, const std::string& key,
                                const std::function<StatusOr<Response>(Txn&)>& apply);
  // Runs done with the answer once it is durable, on the thread that completes the write.
  template <typename Response>
  void AnswerWhenDurable(Decided<Response> decided, std::function<void(StatusOr<Response>)> done);
  StatusOr<v1::Hold> ApplyHold(Txn& txn, const v1::HoldPointsRequest& request);
  // expired_now: the hold's time had passed; the caller makes its expiry durable.
  StatusOr<v1::Hold> ApplyCapture(Txn& txn, const v1::CaptureHoldRequest& request,
                                  bool& expired_now);

  v1::Hold ReleaseHold(Txn& txn, v1::Hold hold, v1::HoldStatus status);

  // Balance moves that keep the lots equal to the available balance.
  int64_t CreditAvailable(Txn& txn, MemberRecord& member, int64_t points);  // returns debt repaid
  std::vector<v1::internal::Lot> DebitAvailable(MemberRecord& member, int64_t points);
  void RestoreLots(Txn& txn, MemberRecord& member, const std::vector<v1::internal::Lot>& lots);
  void AddTimer(Txn& txn, int64_t due_ms, uint8_t kind, const std::string& member_id,
                const std::string& reference);
  void RunTimer(Txn& txn, int64_t due_ms, uint8_t kind, const std::string& member_id,
                const std::string& reference);
  // Tiers and milestones.
  void SetEarnedTier(Txn& txn, MemberRecord& member, int tier_index, const std::string& cause);
  void UpdateEffectiveTier(Txn& txn, MemberRecord& member, const std::string& cause);
  void CheckMilestones(Txn& txn, MemberRecord& member, bool purchase_counted,
                       int64_t earned_before);
  void ReachMilestone(Txn& txn, MemberRecord& member, const std::string& id);
  const std::vector<v1::Campaign*>& CampaignsByPriority();
  // Names each share's campaign: stored entries and events carry ids only (names change and
  // would be copied into every record); answers to people show the names.
  void AddCampaignNames(v1::EarnBreakdown& breakdown) const;
  Status ValidatePurchase(const v1::PurchaseEvent& purchase) const;
  v1::Member View(const MemberRecord& member) const;
  StatusOr<v1::Campaign> SaveCampaign(Txn& txn, v1::Campaign campaign, const std::string& action,
                                      const std::string& actor);
  void ApplyActivity(Txn& txn, const InputMessage& message, BatchResult& result);
  StatusOr<v1::Hold> LoadHold(const std::string& hold_id);
  std::vector<v1::internal::Lot> LoadHoldLots(const std::string& hold_id);

  // Kafka input.
  void ApplyPurchase(Txn& txn, const InputMessage& message, BatchResult& result);
  void ApplyRefund(Txn& txn, const InputMessage& message, BatchResult& result);
  void ApplyRefundTo(Txn& txn, const v1::RefundEvent& refund, v1::internal::PurchaseRecord& record,
                     const std::string& purchase_id, BatchResult& result);
  void DeadLetter(Txn& txn, const InputMessage& message, const std::string& kind,
                  const std::string& reason, BatchResult& result);

  Store& store_;
  Outbox& outbox_;
  const Clock& clock_;
  AccrualConfig config_;
  CommitObserver on_commit_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, MemberRecord> members_;  // loaded on first use
  std::set<std::pair<int64_t, std::string>> open_holds_;   // (expires_at_ms, hold_id)
  int64_t member_count_ = 0;
  std::map<std::string, v1::Campaign> campaigns_;
  std::vector<v1::Campaign*> campaign_order_;  // live ones, highest priority first
  bool campaign_order_valid_ = false;
  std::map<std::string, v1::PartnerStats> partner_stats_;
  uint64_t audit_sequence_ = 0;
  std::map<TopicPartition, int64_t> offsets_;  // staged next offsets
  std::map<TopicPartition, int64_t> durable_offsets_;
};

}  // namespace loyalty::accrual
