#include "services/referral/core/referral_core.h"

#include <set>

#include "common/accrual_retry.h"
#include "common/audit_log.h"
#include "common/dead_letter.h"
#include "common/field_limits.h"
#include "common/idempotent.h"
#include "common/key_codec.h"
#include "services/referral/core/codes.h"
#include "services/referral/core/review.h"
#include "services/referral/core/stats.h"

namespace loyalty::referral {

using v1::referralinternal::IdempotencyRecord;

std::vector<std::string> ReferralColumnFamilies() {
  return {cf::kMembers,     cf::kCodes,   cf::kReferrals, cf::kByReferrer, cf::kHeld, cf::kWork,
          cf::kIdempotency, cf::kOffsets, cf::kDedupe,    kOutboxCf,       kAuditCf};
}

ReferralCore::ReferralCore(Store& store, Outbox& outbox, const Clock& clock, AccrualClient& accrual,
                           ReferralConfig config)
    : store_(store),
      outbox_(outbox),
      clock_(clock),
      accrual_(accrual),
      config_(config),
      members_(store, clock, config_.member_cache_bytes),
      codes_(store),
      referrals_(store, clock, members_, config_.referral_cache_bytes),
      attribution_(clock, config_, members_, referrals_),
      qualify_(store, clock, config_, members_, referrals_),
      steps_(referrals_, members_),
      offsets_(store_, cf::kOffsets) {}

uint64_t ReferralCore::Stage(Txn& txn) {
  uint64_t ticket = store_.Stage([&](StagedWrite& write) {
    members_.WriteDirty(txn, write);
    referrals_.WriteDirty(txn, write);
    txn.WriteTo(write, outbox_);
  });
  members_.Staged(txn, ticket);
  referrals_.Staged(txn, ticket);
  TrimCaches();
  return ticket;
}

void ReferralCore::TrimCaches() {
  members_.Trim();
  referrals_.Trim();
}

void ReferralCore::Finish(uint64_t ticket, Txn& txn) {
  store_.WaitDurable(ticket);
  if (on_commit_ && (!txn.facts.empty() || txn.published() > 0)) on_commit_(txn.facts);
  if (txn.work_added && on_work_) on_work_();
}

template <typename Response, typename Request>
StatusOr<Response> ReferralCore::Idempotent(const char* method, const Principal& caller,
                                            const Request& request, const std::string& key,
                                            const std::function<StatusOr<Response>(Txn&)>& apply) {
  // The administrative calls leave an audit record in the same write (common/audit_log.h).
  auto apply_and_audit = AuditedApply<Response, Txn>(
      IsAudited(method, {"SetVanityCode", "ApproveReferral", "RejectReferral"}), "referral",
      "/loyalty.v1.ReferralService/", method, caller, request, clock_.NowMs(), apply);
  auto outcome = RunIdempotent<IdempotencyRecord, Response, Txn>(
      store_, mu_, clock_.NowMs(), method, caller, request, key, apply_and_audit,
      [this](Txn& txn) { return Stage(txn); });
  if (outcome.ticket != 0) Finish(outcome.ticket, outcome.txn);
  return std::move(outcome.result);
}

// --- codes ---

StatusOr<v1::ReferralCode> ReferralCore::GetReferralCode(const std::string& member_id) {
  if (Status s = ValidMemberId("member_id", member_id); !s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    TrimCaches();  // reads fill the caches too
    MemberState* m = members_.Find(member_id);
    if (m != nullptr && !m->generated_code().empty()) return CodeBook::View(*m);
  }
  // Codes are only made for members accrual knows; asked before taking the mutex.
  auto member = accrual_.GetMember(member_id);
  if (!member.ok()) {
    if (member.status().code() == Code::kNotFound) {
      return NotFound("member_id: member '" + Quote(member_id) + "' not found");
    }
    return member.status();
  }
  Txn txn;
  v1::ReferralCode view;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    MemberState& m = members_.GetOrCreate(txn, member_id);
    if (Status s = codes_.Issue(txn, m); !s.ok()) return s;
    view = CodeBook::View(m);
    ticket = Stage(txn);
  }
  Finish(ticket, txn);
  return view;
}

StatusOr<v1::ReferralCode> ReferralCore::SetVanityCode(const Principal& caller,
                                                       const v1::SetVanityCodeRequest& request) {
  if (Status s = ValidMemberId("member_id", request.member_id()); !s.ok()) return s;
  auto code = NormalizeVanityCode("code", request.code());
  if (!code.ok()) return code.status();
  // The member must have a generated code first, so that its old links keep working.
  auto generated = GetReferralCode(request.member_id());
  if (!generated.ok()) return generated.status();
  return Idempotent<v1::ReferralCode>("SetVanityCode", caller, request, request.idempotency_key(),
                                      [&](Txn& txn) -> StatusOr<v1::ReferralCode> {
                                        MemberState& m =
                                            members_.GetOrCreate(txn, request.member_id());
                                        if (Status s = codes_.SetVanity(txn, m, *code); !s.ok())
                                          return s;
                                        return CodeBook::View(m);
                                      });
}

// --- attribution ---

StatusOr<v1::Referral> ReferralCore::ApplyReferral(const Principal& caller,
                                                   const v1::ApplyReferralRequest& request) {
  if (Status s = ValidMemberId("invitee_id", request.invitee_id()); !s.ok()) return s;
  auto code = NormalizeCode("code", request.code());
  if (!code.ok()) return code.status();
  if (request.idempotency_key().empty()) return InvalidArgument("idempotency_key: required");
  std::optional<std::string> referrer_id = codes_.Owner(*code);
  if (!referrer_id) return NotFound("code: no referral code '" + Quote(*code) + "'");
  // Contacts and enrolment time come from accrual, asked before the mutex is taken.
  auto invitee = accrual_.GetMember(request.invitee_id());
  if (!invitee.ok()) {
    if (invitee.status().code() != Code::kNotFound) return invitee.status();
    return NotFound("invitee_id: member '" + Quote(request.invitee_id()) + "' not found");
  }
  if (invitee->status() == v1::MEMBER_STATUS_ERASED) {
    return FailedPrecondition("invitee_id: member '" + Quote(request.invitee_id()) + "' is erased");
  }
  auto referrer = accrual_.GetMember(*referrer_id);
  if (!referrer.ok() && referrer.status().code() != Code::kNotFound) return referrer.status();
  if (!referrer.ok() || referrer->status() == v1::MEMBER_STATUS_ERASED) {
    return FailedPrecondition("code: the referrer is no longer a member");
  }
  const ApplyCmd cmd{request, *code, *referrer_id, *invitee, *referrer};
  return Idempotent<v1::Referral>("ApplyReferral", caller, request, request.idempotency_key(),
                                  [&](Txn& txn) { return attribution_.Apply(txn, cmd); });
}

// --- input ---

EventBatchResult ReferralCore::ApplyEvents(const std::vector<InputMessage>& batch,
                                           const Decoder& decode) {
  return ApplyRecords(
      batch.size(), [&](size_t i) -> const InputMessage& { return batch[i]; },
      [&](size_t i, Txn& txn, EventBatch& state) {
        ApplyCommand(txn, batch[i], decode(batch[i]), state);
      });
}

EventBatchResult ReferralCore::ApplyEvents(const std::vector<Input>& inputs) {
  return ApplyRecords(
      inputs.size(), [&](size_t i) -> const InputMessage& { return inputs[i].source; },
      [&](size_t i, Txn& txn, EventBatch& state) {
        ApplyCommand(txn, inputs[i].source, inputs[i].command, state);
      });
}

EventBatchResult ReferralCore::ApplyRecords(
    size_t n, const std::function<const InputMessage&(size_t)>& source,
    const std::function<void(size_t, Txn&, EventBatch&)>& apply) {
  EventBatch state;
  Txn txn;
  uint64_t ticket = 0;
  // Events are keyed by member id: the batch's members are read in one MultiGet.
  std::vector<std::string> member_ids;
  member_ids.reserve(n);
  for (size_t i = 0; i < n; ++i) member_ids.push_back(source(i).key);
  {
    std::lock_guard lock(mu_);
    members_.Prefetch(member_ids);
    for (size_t i = 0; i < n; ++i) {
      const InputMessage& record = source(i);
      if (offsets_.AlreadyApplied(record)) {
        ++state.result.duplicates;  // the broker sent it again
        continue;
      }
      offsets_.Advance(record);
      apply(i, txn, state);
    }
    offsets_.WriteTouched(txn);
    ticket = Stage(txn);
  }
  Finish(ticket, txn);
  return state.result;
}

void ReferralCore::ApplyCommand(Txn& txn, const InputMessage& source, const Command& command,
                                EventBatch& batch) {
  if (const auto* undecodable = std::get_if<Undecodable>(&command)) {
    txn.Publish(DeadLetterRecord(source, undecodable->kind, undecodable->reason));
    ++batch.result.dead_lettered;
    return;
  }
  qualify_.Apply(txn, std::get<EventCmd>(command), batch);
}

std::map<TopicPartition, int64_t> ReferralCore::StoredOffsets() const {
  std::lock_guard lock(mu_);
  return offsets_.next();
}

// --- the award saga ---

size_t ReferralCore::PendingWork() const {
  std::lock_guard lock(mu_);
  return referrals_.work().size();
}

RecordCacheStats ReferralCore::MemberCacheStats() const {
  std::lock_guard lock(mu_);
  return members_.cache_stats();
}

RecordCacheStats ReferralCore::ReferralCacheStats() const {
  std::lock_guard lock(mu_);
  return referrals_.cache_stats();
}

StepsResult ReferralCore::RunPendingSteps() {
  std::vector<Step> steps;
  {
    std::lock_guard lock(mu_);
    TrimCaches();  // reads fill the caches too
    steps = steps_.Due();
  }
  StepsResult result;
  for (const auto& step : steps) RunStep(step, result);
  return result;
}

void ReferralCore::RunStep(const Step& step, StepsResult& result) {
  Status status = AwardSteps::Perform(accrual_, step);  // outside the mutex
  if (ShouldRetryAccrualCall(status)) {
    ++result.retrying;
    return;
  }
  Txn txn;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    if (!steps_.Record(txn, step, status, result)) return;
    ticket = Stage(txn);
  }
  Finish(ticket, txn);
}

// --- reads and operator review ---

StatusOr<v1::Referral> ReferralCore::GetReferral(const std::string& referral_id) {
  if (referral_id.empty()) return InvalidArgument("referral_id: required");
  std::lock_guard lock(mu_);
  TrimCaches();  // reads fill the caches too
  v1::Referral* r = referrals_.Find(referral_id);
  if (r == nullptr) return NotFound("referral_id: referral '" + Quote(referral_id) + "' not found");
  return *r;
}

StatusOr<v1::ReferralStats> ReferralCore::GetReferralStats(const std::string& member_id) {
  if (Status s = ValidMemberId("member_id", member_id); !s.ok()) return s;
  std::lock_guard lock(mu_);
  TrimCaches();  // reads fill the caches too
  MemberState* m = members_.Find(member_id);
  if (m == nullptr) {
    // A member referral never heard of has empty statistics, if accrual knows it. (Asked
    // under the mutex, as it always was; a candidate to move out.)
    auto member = accrual_.GetMember(member_id);
    if (!member.ok() && member.status().code() == Code::kNotFound) {
      return NotFound("member_id: member '" + Quote(member_id) + "' not found");
    }
  }
  std::vector<const v1::Referral*> made;
  for (const auto& id : referrals_.IdsOfReferrer(member_id)) {
    if (const v1::Referral* r = referrals_.Find(id); r != nullptr) made.push_back(r);
  }
  const v1::Referral* own = nullptr;
  if (m != nullptr && !m->referral_id().empty()) own = referrals_.Find(m->referral_id());
  return Summarize(member_id, made, own);
}

StatusOr<v1::ListReferralsResponse> ReferralCore::ListReferrals(
    const v1::ListReferralsRequest& request) {
  if (Status s = ValidMemberId("member_id", request.member_id()); !s.ok()) return s;
  StatusOr<int> page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  auto from = referrals_.PageStart(request.member_id(), request.page_token());
  if (!from.ok()) return from.status();
  std::lock_guard lock(mu_);
  TrimCaches();  // reads fill the caches too
  return referrals_.ListOfReferrer(request.member_id(), *from, *page_size);
}

StatusOr<v1::ListReferralsResponse> ReferralCore::ListHeldReferrals(
    const v1::ListHeldReferralsRequest& request) {
  StatusOr<int> page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  std::lock_guard lock(mu_);
  TrimCaches();  // reads fill the caches too
  return referrals_.ListHeld(request.page_token(), *page_size);
}

StatusOr<v1::Referral> ReferralCore::Review(const char* method, const Principal& caller,
                                            const v1::ReviewReferralRequest& request,
                                            bool approve) {
  if (request.referral_id().empty()) return InvalidArgument("referral_id: required");
  if (request.actor().empty()) return InvalidArgument("actor: required");
  const ReviewDecision decision = approve ? ReviewDecision::kApprove : ReviewDecision::kReject;
  return Idempotent<v1::Referral>(
      method, caller, request, request.idempotency_key(),
      [&](Txn& txn) { return referral::Review(txn, referrals_, request, decision); });
}

StatusOr<v1::Referral> ReferralCore::ApproveReferral(const Principal& caller,
                                                     const v1::ReviewReferralRequest& request) {
  return Review("ApproveReferral", caller, request, true);
}

StatusOr<v1::Referral> ReferralCore::RejectReferral(const Principal& caller,
                                                    const v1::ReviewReferralRequest& request) {
  return Review("RejectReferral", caller, request, false);
}

}  // namespace loyalty::referral
