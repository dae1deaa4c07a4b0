#include "services/referral/core/referral_core.h"

#include <algorithm>

#include "common/accrual_retry.h"
#include "common/dead_letter.h"
#include "common/event_stamp.h"
#include "common/idempotent.h"
#include "common/ids.h"
#include "common/key_codec.h"
#include "common/retention.h"
#include "common/unit_of_work.h"
#include "services/referral/core/codes.h"

namespace loyalty::referral {
namespace {

constexpr char kMembersCf[] = "members";
constexpr char kCodesCf[] = "codes";
constexpr char kReferralsCf[] = "referrals";
constexpr char kByReferrerCf[] = "by_referrer";
constexpr char kHeldCf[] = "held";
constexpr char kWorkCf[] = "work";
constexpr char kIdempotencyCf[] = "idempotency";
constexpr char kOffsetsCf[] = "offsets";
constexpr char kDedupeCf[] = "event_dedupe";

constexpr size_t kMaxIdLength = 128;
constexpr int kMaxCycleDepth = 64;
constexpr int kMaxCodeAttempts = 1000;
constexpr size_t kMaxRecentPurchases = 64;
constexpr char kRoleReferrer[] = "referrer";
constexpr char kRoleInvitee[] = "invitee";

using v1::referralinternal::IdempotencyRecord;

using keys::EncodeI64;

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

Status ValidMemberId(const std::string& field, const std::string& id) {
  if (id.empty()) return InvalidArgument(field + ": required");
  if (id.size() > kMaxIdLength) return InvalidArgument(field + ": longer than 128 characters");
  return Status::Ok();
}

bool HasPendingStep(const v1::Referral& r) {
  for (const auto* side : {&r.referrer(), &r.invitee()}) {
    if (side->award() == v1::STEP_STATE_PENDING || side->reversal() == v1::STEP_STATE_PENDING) {
      return true;
    }
  }
  return false;
}

// The accrual sequence in an event_id "<member_id>:<sequence>", or -1 if it has another form.
int64_t AccrualSequence(const v1::LoyaltyEvent& event) {
  const std::string& id = event.event_id();
  const std::string prefix = event.member_id() + ":";
  if (id.size() <= prefix.size() || id.compare(0, prefix.size(), prefix) != 0) return -1;
  int64_t seq = 0;
  for (size_t i = prefix.size(); i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9' || seq > (int64_t{1} << 55)) return -1;
    seq = seq * 10 + (id[i] - '0');
  }
  return seq;
}

}  // namespace

std::vector<std::string> ReferralColumnFamilies() {
  return {kMembersCf, kCodesCf,       kReferralsCf, kByReferrerCf, kHeldCf,
          kWorkCf,    kIdempotencyCf, kOffsetsCf,   kDedupeCf,     kOutboxCf};
}

// The changes of one call or one batch, staged together, the cached records they touched
// and the facts to report once they are durable.
struct ReferralCore::Txn : UnitOfWork {
  std::set<std::string> dirty_members;
  std::set<std::string> dirty_referrals;
  std::vector<Fact> facts;
  bool work_added = false;

  void Note(std::string kind, std::string label = "", int64_t value = 1) {
    facts.push_back({std::move(kind), std::move(label), value});
  }
};

ReferralCore::ReferralCore(Store& store, Outbox& outbox, const Clock& clock, AccrualClient& accrual,
                           ReferralConfig config)
    : store_(store), outbox_(outbox), clock_(clock), accrual_(accrual), config_(config) {
  offsets_ = LoadStoredOffsets(store_, kOffsetsCf);
  store_.Scan(kMembersCf, "", "", [&](std::string_view key, std::string_view v) {
    MemberState m;
    m.ParseFromArray(v.data(), static_cast<int>(v.size()));
    if (!m.referral_id().empty() || m.referrals_made() > 0) followed_.emplace(key);
    return true;
  });
  store_.Scan(kWorkCf, "", "", [&](std::string_view key, std::string_view) {
    work_.emplace(key);
    return true;
  });
}

ReferralCore::MemberState* ReferralCore::FindMember(const std::string& member_id) {
  if (auto it = members_.find(member_id); it != members_.end()) return &it->second;
  std::string value;
  if (member_id.empty() || !store_.Get(kMembersCf, member_id, &value)) return nullptr;
  MemberState& slot = members_[member_id];
  slot.ParseFromString(value);
  return &slot;
}

ReferralCore::MemberState& ReferralCore::GetOrCreateMember(Txn& txn, const std::string& member_id) {
  MemberState* m = FindMember(member_id);
  if (m == nullptr) {
    m = &members_[member_id];
    m->set_member_id(member_id);
  }
  txn.dirty_members.insert(member_id);
  return *m;
}

v1::Referral* ReferralCore::FindReferral(const std::string& referral_id) {
  if (auto it = referrals_.find(referral_id); it != referrals_.end()) return &it->second;
  std::string value;
  if (referral_id.empty() || !store_.Get(kReferralsCf, referral_id, &value)) return nullptr;
  v1::Referral& slot = referrals_[referral_id];
  slot.ParseFromString(value);
  return &slot;
}

void ReferralCore::Touch(Txn& txn, const v1::Referral& referral) {
  txn.dirty_referrals.insert(referral.referral_id());
  bool pending = HasPendingStep(referral);
  bool listed = work_.count(referral.referral_id()) > 0;
  if (pending && !listed) {
    work_.insert(referral.referral_id());
    txn.Put(kWorkCf, referral.referral_id(), "");
    txn.work_added = true;
  } else if (!pending && listed) {
    work_.erase(referral.referral_id());
    txn.Erase(kWorkCf, referral.referral_id());
  }
}

void ReferralCore::AddEvent(Txn& txn, const std::string& member_id, v1::LoyaltyEvent event) {
  MemberState& member = GetOrCreateMember(txn, member_id);
  // Prefixed, so that referral's ids never collide with accrual's "<member_id>:<sequence>".
  static const EventSource kSource{"referral", "referral:"};
  int64_t sequence = member.last_event_sequence();
  txn.Publish(StampEvent(kSource, sequence, member_id, clock_.NowMs(), event));
  member.set_last_event_sequence(sequence);
}

uint64_t ReferralCore::Stage(Txn& txn) {
  return store_.Stage([&](StagedWrite& write) {
    for (const auto& id : txn.dirty_members) {
      write.Put(kMembersCf, id, members_.at(id).SerializeAsString());
    }
    for (const auto& id : txn.dirty_referrals) {
      write.Put(kReferralsCf, id, referrals_.at(id).SerializeAsString());
    }
    txn.WriteTo(write, outbox_);
  });
}

void ReferralCore::Finish(uint64_t ticket, Txn& txn) {
  store_.WaitDurable(ticket);
  if (on_commit_ && (!txn.facts.empty() || txn.published() > 0)) on_commit_(txn.facts);
  if (txn.work_added && on_work_) on_work_();
}

template <typename Response, typename Request>
StatusOr<Response> ReferralCore::Idempotent(const char* method, const Request& request,
                                            const std::string& key,
                                            const std::function<StatusOr<Response>(Txn&)>& apply) {
  auto outcome = RunIdempotent<IdempotencyRecord, Response, Txn>(
      store_, mu_, clock_.NowMs(), method, request, key, apply,
      [this](Txn& txn) { return Stage(txn); });
  if (outcome.ticket != 0) Finish(outcome.ticket, outcome.txn);
  return std::move(outcome.result);
}

// --- codes ---

v1::ReferralCode ReferralCore::CodeView(const MemberState& member) const {
  v1::ReferralCode code;
  code.set_member_id(member.member_id());
  code.set_generated_code(member.generated_code());
  code.set_vanity_code(member.vanity_code());
  code.set_code(member.vanity_code().empty() ? member.generated_code() : member.vanity_code());
  return code;
}

StatusOr<v1::ReferralCode> ReferralCore::GetReferralCode(const std::string& member_id) {
  if (Status s = ValidMemberId("member_id", member_id); !s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    MemberState* m = FindMember(member_id);
    if (m != nullptr && !m->generated_code().empty()) return CodeView(*m);
  }
  // Codes are only made for members accrual knows; asked before taking the mutex.
  auto member = accrual_.GetMember(member_id);
  if (!member.ok()) {
    if (member.status().code() == Code::kNotFound) {
      return NotFound("member_id: member '" + member_id + "' not found");
    }
    return member.status();
  }
  Txn txn;
  v1::ReferralCode view;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    MemberState& m = GetOrCreateMember(txn, member_id);
    if (m.generated_code().empty()) {
      std::string ignored;
      for (int attempt = 0; attempt < kMaxCodeAttempts; ++attempt) {
        std::string code = GeneratedCode(member_id, attempt);
        if (!store_.Get(kCodesCf, code, &ignored)) {
          m.set_generated_code(code);
          txn.Put(kCodesCf, code, member_id, /*visible=*/true);
          break;
        }
      }
      if (m.generated_code().empty()) return Internal("no free referral code");
    }
    view = CodeView(m);
    ticket = Stage(txn);
  }
  Finish(ticket, txn);
  return view;
}

StatusOr<v1::ReferralCode> ReferralCore::SetVanityCode(const v1::SetVanityCodeRequest& request) {
  if (Status s = ValidMemberId("member_id", request.member_id()); !s.ok()) return s;
  auto code = NormalizeVanityCode("code", request.code());
  if (!code.ok()) return code.status();
  // The member must have a generated code first, so that its old links keep working.
  auto generated = GetReferralCode(request.member_id());
  if (!generated.ok()) return generated.status();
  return Idempotent<v1::ReferralCode>(
      "SetVanityCode", request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::ReferralCode> {
        std::string owner;
        if (store_.Get(kCodesCf, *code, &owner) && owner != request.member_id()) {
          return AlreadyExists("code: '" + *code + "' is taken");
        }
        MemberState& m = GetOrCreateMember(txn, request.member_id());
        // The previous vanity code keeps resolving: members may have shared it already.
        m.set_vanity_code(*code);
        txn.Put(kCodesCf, *code, request.member_id(), /*visible=*/true);
        return CodeView(m);
      });
}

// --- attribution and rules ---

bool ReferralCore::ReachesInCycle(const std::string& from, const std::string& target) {
  // Follows "referred by" links up from `from`; a cycle forms if they reach target.
  std::string current = from;
  for (int depth = 0; depth < kMaxCycleDepth; ++depth) {
    MemberState* m = FindMember(current);
    if (m == nullptr || m->referral_id().empty()) return false;
    v1::Referral* r = FindReferral(m->referral_id());
    if (r == nullptr || r->status() == v1::REFERRAL_STATUS_REJECTED) return false;
    if (r->referrer_id() == target) return true;
    current = r->referrer_id();
  }
  return false;
}

ReferralCore::Verdict ReferralCore::Judge(const v1::Member& invitee, const v1::Member& referrer) {
  Verdict verdict;
  auto fire = [&](RuleAction action, const char* reason, std::string detail) {
    if (action == RuleAction::kOff || verdict.status == v1::REFERRAL_STATUS_REJECTED) return;
    if (action == RuleAction::kReject) {
      verdict = {v1::REFERRAL_STATUS_REJECTED, reason, std::move(detail)};
    } else if (verdict.status != v1::REFERRAL_STATUS_HELD) {
      verdict = {v1::REFERRAL_STATUS_HELD, reason, std::move(detail)};
    }
  };
  const int64_t now = clock_.NowMs();
  if (invitee.member_id() == referrer.member_id()) {
    fire(config_.self_referral, "self_referral", "the code is the invitee's own");
  } else if (!invitee.phone().empty() &&
             ComparablePhone(invitee.phone()) == ComparablePhone(referrer.phone())) {
    fire(config_.self_referral, "self_referral", "invitee and referrer share a phone number");
  } else if (!invitee.email().empty() &&
             ComparableEmail(invitee.email()) == ComparableEmail(referrer.email())) {
    fire(config_.self_referral, "self_referral", "invitee and referrer share an e-mail address");
  }
  if (now - invitee.enrolled_at_ms() > config_.ApplyWithinMs()) {
    fire(config_.late_application, "late_application",
         "code applied more than " +
             (config_.apply_within_seconds > 0
                  ? std::to_string(config_.apply_within_seconds) + " seconds"
                  : std::to_string(config_.apply_within_days) + " days") +
             " after enrolment");
  }
  if (invitee.member_id() != referrer.member_id() &&
      ReachesInCycle(referrer.member_id(), invitee.member_id())) {
    fire(config_.cycle, "cycle", "the referrer was referred by the invitee (directly or not)");
  }
  if (MemberState* r = FindMember(referrer.member_id()); r != nullptr) {
    int64_t since = now - config_.cap_period_days * kDayMs;
    int64_t recent = std::count_if(r->recent_applied_ms().begin(), r->recent_applied_ms().end(),
                                   [&](int64_t at) { return at > since; });
    if (recent >= config_.cap_count) {
      fire(config_.referrer_cap, "referrer_cap",
           "referrer already has " + std::to_string(recent) + " referrals in " +
               std::to_string(config_.cap_period_days) + " days");
    }
  }
  return verdict;
}

void ReferralCore::Reject(Txn& txn, v1::Referral& referral, const std::string& reason,
                          const std::string& detail) {
  if (referral.status() == v1::REFERRAL_STATUS_HELD) txn.Erase(kHeldCf, referral.referral_id());
  referral.set_status(v1::REFERRAL_STATUS_REJECTED);
  referral.set_reason(reason);
  referral.set_reason_detail(detail);
  Touch(txn, referral);
  v1::LoyaltyEvent event;
  auto* rejected = event.mutable_referral_rejected();
  rejected->set_referral_id(referral.referral_id());
  rejected->set_referrer_id(referral.referrer_id());
  rejected->set_invitee_id(referral.invitee_id());
  rejected->set_reason(reason);
  AddEvent(txn, referral.invitee_id(), std::move(event));
  txn.Note("rejected", reason);
}

void ReferralCore::Hold(Txn& txn, v1::Referral& referral, const std::string& reason,
                        const std::string& detail) {
  referral.set_status(v1::REFERRAL_STATUS_HELD);
  referral.set_reason(reason);
  referral.set_reason_detail(detail);
  txn.Put(kHeldCf, referral.referral_id(), "");
  Touch(txn, referral);
  txn.Note("held", reason);
}

StatusOr<v1::Referral> ReferralCore::ApplyReferral(const v1::ApplyReferralRequest& request) {
  if (Status s = ValidMemberId("invitee_id", request.invitee_id()); !s.ok()) return s;
  auto code = NormalizeCode("code", request.code());
  if (!code.ok()) return code.status();
  if (request.idempotency_key().empty()) return InvalidArgument("idempotency_key: required");
  std::string referrer_id;
  if (!store_.Get(kCodesCf, *code, &referrer_id)) {
    return NotFound("code: no referral code '" + *code + "'");
  }
  // Contacts and enrolment time come from accrual, asked before the mutex is taken.
  auto invitee = accrual_.GetMember(request.invitee_id());
  if (!invitee.ok()) {
    if (invitee.status().code() != Code::kNotFound) return invitee.status();
    return NotFound("invitee_id: member '" + request.invitee_id() + "' not found");
  }
  if (invitee->status() == v1::MEMBER_STATUS_ERASED) {
    return FailedPrecondition("invitee_id: member '" + request.invitee_id() + "' is erased");
  }
  auto referrer = accrual_.GetMember(referrer_id);
  if (!referrer.ok()) {
    if (referrer.status().code() != Code::kNotFound) return referrer.status();
    return FailedPrecondition("code: the referrer is no longer a member");
  }
  if (referrer->status() == v1::MEMBER_STATUS_ERASED) {
    return FailedPrecondition("code: the referrer is no longer a member");
  }
  return Idempotent<v1::Referral>(
      "ApplyReferral", request, request.idempotency_key(), [&](Txn& txn) -> StatusOr<v1::Referral> {
        MemberState* existing = FindMember(request.invitee_id());
        if (existing != nullptr && !existing->referral_id().empty()) {
          return FailedPrecondition("invitee_id: member '" + request.invitee_id() +
                                    "' already applied a referral code (referral " +
                                    existing->referral_id() + ")");
        }
        Verdict verdict = Judge(*invitee, *referrer);
        const int64_t now = clock_.NowMs();
        std::string referral_id = NewId("rf", now);
        v1::Referral& r = referrals_[referral_id];
        r.set_referral_id(referral_id);
        r.set_referrer_id(referrer_id);
        r.set_invitee_id(request.invitee_id());
        r.set_code(*code);
        r.set_applied_at_ms(now);
        r.set_status(v1::REFERRAL_STATUS_PENDING);
        r.mutable_referrer()->set_member_id(referrer_id);
        r.mutable_referrer()->set_points(config_.referrer_bonus);
        r.mutable_invitee()->set_member_id(request.invitee_id());
        r.mutable_invitee()->set_points(config_.two_sided ? config_.invitee_bonus : 0);
        txn.Put(kByReferrerCf, ByReferrerKey(r), "");

        MemberState& invitee_state = GetOrCreateMember(txn, request.invitee_id());
        invitee_state.set_referral_id(r.referral_id());
        invitee_state.set_referred_by(referrer_id);
        followed_.insert(request.invitee_id());
        txn.Note("applied");
        if (verdict.status == v1::REFERRAL_STATUS_REJECTED) {
          Reject(txn, r, verdict.reason, verdict.detail);
          return r;
        }
        MemberState& referrer_state = GetOrCreateMember(txn, referrer_id);
        referrer_state.set_referrals_made(referrer_state.referrals_made() + 1);
        // Only what the cap needs: application times within the period.
        auto* recent = referrer_state.mutable_recent_applied_ms();
        int64_t since = now - config_.cap_period_days * kDayMs;
        recent->erase(
            std::remove_if(recent->begin(), recent->end(), [&](int64_t at) { return at <= since; }),
            recent->end());
        recent->Add(now);
        followed_.insert(referrer_id);
        if (verdict.status == v1::REFERRAL_STATUS_HELD) {
          Hold(txn, r, verdict.reason, verdict.detail);
        } else {
          Touch(txn, r);
        }
        return r;
      });
}

// --- qualification, rewards, reversal ---

void ReferralCore::Qualify(Txn& txn, v1::Referral& referral) {
  if (referral.status() == v1::REFERRAL_STATUS_HELD) txn.Erase(kHeldCf, referral.referral_id());
  referral.set_status(v1::REFERRAL_STATUS_QUALIFIED);
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
    AddEvent(txn, member_id, std::move(event));
  }
  txn.Note("qualified");
}

void ReferralCore::OnPurchase(Txn& txn, MemberState& member, const v1::LoyaltyEvent& event) {
  const auto& earned = event.points_earned();
  const int64_t at = event.occurred_at_ms();
  if (member.referrals_made() > 0 && !earned.store_id().empty()) {
    // The same-store rule needs the referrer's purchases of the last few minutes only.
    auto* recent = member.mutable_recent_purchases();
    int64_t keep_after = at - config_.same_store_minutes * kMinuteMs;
    recent->erase(std::remove_if(recent->begin(), recent->end(),
                                 [&](const auto& p) { return p.at_ms() < keep_after; }),
                  recent->end());
    if (static_cast<size_t>(recent->size()) >= kMaxRecentPurchases) recent->erase(recent->begin());
    auto* p = recent->Add();
    p->set_store_id(earned.store_id());
    p->set_at_ms(at);
    txn.dirty_members.insert(member.member_id());
  }
  if (member.referral_id().empty()) return;
  v1::Referral* r = FindReferral(member.referral_id());
  if (r == nullptr || !r->purchase_id().empty()) return;  // only the first qualifying purchase
  bool pending = r->status() == v1::REFERRAL_STATUS_PENDING;
  bool held = r->status() == v1::REFERRAL_STATUS_HELD;
  if (!pending && !held) return;
  // Purchases before the code was applied (e.g. history read on a first start) do not count.
  if (at < r->applied_at_ms()) return;
  if (earned.breakdown().amount_minor() < config_.min_purchase_minor) return;
  if (at > r->applied_at_ms() + config_.qualify_within_days * kDayMs) {
    if (held) txn.Erase(kHeldCf, r->referral_id());
    r->set_status(v1::REFERRAL_STATUS_EXPIRED);
    r->set_reason("expired");
    r->set_reason_detail("no qualifying purchase within " +
                         std::to_string(config_.qualify_within_days) + " days");
    Touch(txn, *r);
    txn.Note("expired");
    return;
  }
  r->set_purchase_id(earned.purchase_id());
  r->set_store_id(earned.store_id());
  r->set_purchased_at_ms(at);
  // Accrual's return window for this purchase ends when its pending points are released;
  // only when accrual has no window (points credited at once) does referral's own apply.
  r->set_return_window_ends_at_ms(earned.breakdown().pending() &&
                                          earned.breakdown().release_at_ms() > 0
                                      ? earned.breakdown().release_at_ms()
                                      : at + config_.return_window_days * kDayMs);
  Touch(txn, *r);
  if (config_.same_store != RuleAction::kOff && !earned.store_id().empty()) {
    if (MemberState* referrer = FindMember(r->referrer_id()); referrer != nullptr) {
      for (const auto& p : referrer->recent_purchases()) {
        if (p.store_id() == earned.store_id() &&
            std::abs(p.at_ms() - at) <= config_.same_store_minutes * kMinuteMs) {
          std::string detail = "first purchase at " + p.store_id() + " within " +
                               std::to_string(config_.same_store_minutes) +
                               " minutes of a purchase by the referrer";
          if (config_.same_store == RuleAction::kReject) {
            Reject(txn, *r, "same_store", detail);
          } else if (!held) {
            Hold(txn, *r, "same_store", detail);
          }
          return;
        }
      }
    }
  }
  // A referral held at application waits for the operator, now with its purchase.
  if (pending) Qualify(txn, *r);
}

void ReferralCore::OnRefund(Txn& txn, MemberState& member, const v1::LoyaltyEvent& event) {
  if (member.referral_id().empty()) return;
  v1::Referral* r = FindReferral(member.referral_id());
  const auto& reversed = event.points_reversed();
  if (r == nullptr || r->purchase_id().empty() || r->purchase_id() != reversed.purchase_id()) {
    return;
  }
  if (r->status() == v1::REFERRAL_STATUS_HELD) {
    Reject(txn, *r, "purchase_refunded", "the qualifying purchase was refunded");
    return;
  }
  if (r->status() != v1::REFERRAL_STATUS_QUALIFIED && r->status() != v1::REFERRAL_STATUS_REWARDED) {
    return;
  }
  // Referrals qualified before the window was recorded on them have referral's own.
  int64_t window_ends = r->return_window_ends_at_ms() > 0
                            ? r->return_window_ends_at_ms()
                            : r->purchased_at_ms() + config_.return_window_days * kDayMs;
  if (event.occurred_at_ms() > window_ends) return;
  r->set_status(v1::REFERRAL_STATUS_REVERSED);
  r->set_refund_id(reversed.refund_id());
  r->set_reversed_at_ms(clock_.NowMs());
  // A bonus still being paid is paid first and then reversed: whether an interrupted award
  // reached accrual is only known by completing it under its idempotency key.
  for (auto* side : {r->mutable_referrer(), r->mutable_invitee()}) {
    if (side->award() == v1::STEP_STATE_PENDING || side->award() == v1::STEP_STATE_DONE) {
      side->set_reversal(v1::STEP_STATE_PENDING);
    }
  }
  Touch(txn, *r);
  txn.Note("reversed");
}

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
  {
    std::lock_guard lock(mu_);
    std::set<TopicPartition> touched;
    for (size_t i = 0; i < n; ++i) {
      const InputMessage& record = source(i);
      TopicPartition tp{record.topic, record.partition};
      auto stored = offsets_.find(tp);
      if (stored != offsets_.end() && record.offset < stored->second) {
        ++state.result.duplicates;  // already applied: the broker sent it again
        continue;
      }
      offsets_[tp] = record.offset + 1;
      touched.insert(tp);
      apply(i, txn, state);
    }
    for (const auto& tp : touched) txn.Put(kOffsetsCf, OffsetKey(tp), EncodeI64(offsets_[tp]));
    ticket = Stage(txn);
  }
  Finish(ticket, txn);
  return state.result;
}

void ReferralCore::ApplyCommand(Txn& txn, const InputMessage& source, const Command& command,
                                EventBatch& state) {
  if (const auto* undecodable = std::get_if<Undecodable>(&command)) {
    txn.Publish(DeadLetterRecord(source, undecodable->kind, undecodable->reason));
    ++state.result.dead_lettered;
    return;
  }
  ApplyEvent(txn, std::get<EventCmd>(command).event, state);
}

void ReferralCore::ApplyEvent(Txn& txn, const v1::LoyaltyEvent& event, EventBatch& state) {
  EventBatchResult& result = state.result;
  bool relevant = event.payload_case() == v1::LoyaltyEvent::kPointsEarned ||
                  event.payload_case() == v1::LoyaltyEvent::kPointsReversed;
  if (!relevant || event.source_service() == "referral" || !followed_.count(event.member_id())) {
    ++result.ignored;
    return;
  }
  MemberState* member = FindMember(event.member_id());
  if (member == nullptr) {
    ++result.ignored;
    return;
  }
  // Dedupe by event_id: accrual's ids are "<member_id>:<sequence>" with a per-member
  // sequence that only grows, so the last sequence applied is the whole dedupe record.
  int64_t sequence = AccrualSequence(event);
  if (sequence >= 0) {
    if (sequence <= member->last_accrual_sequence()) {
      ++result.duplicates;
      return;
    }
    member->set_last_accrual_sequence(sequence);
    txn.dirty_members.insert(member->member_id());
  } else {
    std::string ignored;
    if (state.seen_ids.count(event.event_id()) ||
        store_.Get(kDedupeCf, event.event_id(), &ignored)) {
      ++result.duplicates;
      return;
    }
    state.seen_ids.insert(event.event_id());
    txn.Put(kDedupeCf, event.event_id(), DedupeRecord(clock_.NowMs()));
  }
  if (event.has_points_earned()) {
    OnPurchase(txn, *member, event);
  } else {
    OnRefund(txn, *member, event);
  }
  ++result.applied;
}

std::map<TopicPartition, int64_t> ReferralCore::StoredOffsets() const {
  std::lock_guard lock(mu_);
  return offsets_;
}

size_t ReferralCore::PendingWork() const {
  std::lock_guard lock(mu_);
  return work_.size();
}

StepsResult ReferralCore::RunPendingSteps() {
  struct Step {
    std::string referral_id;
    bool referrer = true;
    bool reverse = false;
    std::string member_id;
    int64_t points = 0;
    std::string reason;
    std::string refund_id;
  };
  std::vector<Step> steps;
  {
    std::lock_guard lock(mu_);
    for (const auto& id : work_) {
      v1::Referral* r = FindReferral(id);
      if (r == nullptr) continue;
      for (bool is_referrer : {true, false}) {
        const v1::ReferralAward& side = is_referrer ? r->referrer() : r->invitee();
        Step step{id, is_referrer, false, side.member_id(), side.points(), "", r->refund_id()};
        if (side.award() == v1::STEP_STATE_PENDING) {
          step.reason = is_referrer
                            ? "referral bonus: " + r->invitee_id() + " joined with your code"
                            : "referral bonus: joined with the code of " + r->referrer_id();
        } else if (side.award() == v1::STEP_STATE_DONE &&
                   side.reversal() == v1::STEP_STATE_PENDING) {
          step.reverse = true;
          step.reason = "referral " + id + " reversed: refund " + r->refund_id() + " of purchase " +
                        r->purchase_id();
        } else {
          continue;
        }
        steps.push_back(std::move(step));
      }
    }
  }
  StepsResult result;
  for (const auto& step : steps) {
    const char* role = step.referrer ? kRoleReferrer : kRoleInvitee;
    // Keys derived from the referral and role only: a restart repeats the same call and
    // accrual answers it with the first result.
    std::string key = "referral:" + step.referral_id + ":" + role;
    Status status;
    if (!step.reverse) {
      v1::AwardPointsRequest award;
      award.set_member_id(step.member_id);
      award.set_points(step.points);
      award.set_reason(step.reason);
      award.set_source("referral");
      award.set_idempotency_key(key);
      status = accrual_.AwardPoints(award).status();
    } else {
      v1::AdjustPointsRequest adjust;
      adjust.set_member_id(step.member_id);
      adjust.set_delta(-step.points);
      adjust.set_reason(step.reason);
      adjust.set_actor("referral");
      adjust.set_allow_debt(true);
      adjust.set_idempotency_key(key + ":reverse");
      status = accrual_.AdjustPoints(adjust).status();
    }
    if (ShouldRetryAccrualCall(status)) {
      ++result.retrying;
      continue;
    }
    Txn txn;
    uint64_t ticket = 0;
    {
      std::lock_guard lock(mu_);
      v1::Referral* r = FindReferral(step.referral_id);
      if (r == nullptr) continue;
      v1::ReferralAward* side = step.referrer ? r->mutable_referrer() : r->mutable_invitee();
      if (!status.ok()) {
        (step.reverse ? side->set_reversal(v1::STEP_STATE_FAILED)
                      : side->set_award(v1::STEP_STATE_FAILED));
        side->set_detail(status.message());
        if (!step.reverse) side->set_reversal(v1::STEP_STATE_NONE);
        txn.Note("step_failed", step.reverse ? "reversal" : "award");
        ++result.failed;
      } else if (!step.reverse) {
        side->set_award(v1::STEP_STATE_DONE);
        v1::LoyaltyEvent event;
        auto* rewarded = event.mutable_referral_rewarded();
        rewarded->set_referral_id(r->referral_id());
        rewarded->set_referrer_id(r->referrer_id());
        rewarded->set_invitee_id(r->invitee_id());
        rewarded->set_points(step.points);
        rewarded->set_role(role);
        AddEvent(txn, step.member_id, std::move(event));
        txn.Note("points_awarded", role, step.points);
        ++result.done;
      } else {
        side->set_reversal(v1::STEP_STATE_DONE);
        v1::LoyaltyEvent event;
        auto* reversed = event.mutable_referral_reversed();
        reversed->set_referral_id(r->referral_id());
        reversed->set_refund_id(r->refund_id());
        reversed->set_points(step.points);
        reversed->set_role(role);
        AddEvent(txn, step.member_id, std::move(event));
        txn.Note("points_reversed", role, step.points);
        ++result.done;
      }
      if (r->status() == v1::REFERRAL_STATUS_QUALIFIED && !HasPendingStep(*r)) {
        r->set_status(v1::REFERRAL_STATUS_REWARDED);
        txn.Note("rewarded");
      }
      Touch(txn, *r);
      ticket = Stage(txn);
    }
    Finish(ticket, txn);
  }
  return result;
}

// --- reads and operator review ---

StatusOr<v1::Referral> ReferralCore::GetReferral(const std::string& referral_id) {
  if (referral_id.empty()) return InvalidArgument("referral_id: required");
  std::lock_guard lock(mu_);
  v1::Referral* r = FindReferral(referral_id);
  if (r == nullptr) return NotFound("referral_id: referral '" + referral_id + "' not found");
  return *r;
}

StatusOr<v1::ReferralStats> ReferralCore::GetReferralStats(const std::string& member_id) {
  if (Status s = ValidMemberId("member_id", member_id); !s.ok()) return s;
  std::lock_guard lock(mu_);
  MemberState* m = FindMember(member_id);
  if (m == nullptr) {
    // A member referral never heard of has empty statistics, if accrual knows it.
    auto member = accrual_.GetMember(member_id);
    if (!member.ok() && member.status().code() == Code::kNotFound) {
      return NotFound("member_id: member '" + member_id + "' not found");
    }
  }
  v1::ReferralStats stats;
  stats.set_member_id(member_id);
  auto net_points = [](const v1::ReferralAward& side) {
    int64_t points = side.award() == v1::STEP_STATE_DONE ? side.points() : 0;
    if (side.reversal() == v1::STEP_STATE_DONE) points -= side.points();
    return points;
  };
  std::vector<std::string> ids;
  store_.Scan(kByReferrerCf, ByReferrerPrefix(member_id), "",
              [&](std::string_view key, std::string_view) {
                std::string prefix = ByReferrerPrefix(member_id);
                if (key.substr(0, prefix.size()) != prefix) return false;
                size_t pos = prefix.size() + 8;
                std::string id;
                keys::ReadString(key, pos, id);
                ids.push_back(id);
                return true;
              });
  for (const auto& id : ids) {
    v1::Referral* r = FindReferral(id);
    if (r == nullptr) continue;
    stats.set_invited(stats.invited() + 1);
    switch (r->status()) {
      case v1::REFERRAL_STATUS_PENDING:
        stats.set_pending(stats.pending() + 1);
        break;
      case v1::REFERRAL_STATUS_HELD:
        stats.set_held(stats.held() + 1);
        break;
      case v1::REFERRAL_STATUS_REJECTED:
        stats.set_rejected(stats.rejected() + 1);
        ++(*stats.mutable_rejected_by_reason())[r->reason()];
        break;
      case v1::REFERRAL_STATUS_QUALIFIED:
        stats.set_qualified(stats.qualified() + 1);
        break;
      case v1::REFERRAL_STATUS_REWARDED:
        stats.set_qualified(stats.qualified() + 1);
        stats.set_rewarded(stats.rewarded() + 1);
        break;
      case v1::REFERRAL_STATUS_REVERSED:
        stats.set_qualified(stats.qualified() + 1);
        stats.set_reversed(stats.reversed() + 1);
        break;
      case v1::REFERRAL_STATUS_EXPIRED:
        stats.set_expired(stats.expired() + 1);
        break;
      default:
        break;
    }
    stats.set_points_earned(stats.points_earned() + net_points(r->referrer()));
  }
  if (m != nullptr && !m->referral_id().empty()) {
    if (v1::Referral* own = FindReferral(m->referral_id()); own != nullptr) {
      if (own->status() != v1::REFERRAL_STATUS_REJECTED) stats.set_referred_by(own->referrer_id());
      stats.set_points_earned(stats.points_earned() + net_points(own->invitee()));
    }
  }
  return stats;
}

StatusOr<v1::ListReferralsResponse> ReferralCore::ListReferrals(
    const v1::ListReferralsRequest& request) {
  if (Status s = ValidMemberId("member_id", request.member_id()); !s.ok()) return s;
  if (request.page_size() < 0 || request.page_size() > 1000) {
    return InvalidArgument("page_size: must be in 0..1000");
  }
  int page_size = request.page_size() == 0 ? 50 : request.page_size();
  const std::string prefix = ByReferrerPrefix(request.member_id());
  std::string from = prefix;
  if (!request.page_token().empty()) {
    // The token is the referral id the previous page ended with.
    std::string value;
    v1::Referral last;
    if (!store_.Get(kReferralsCf, request.page_token(), &value) || !last.ParseFromString(value) ||
        last.referrer_id() != request.member_id()) {
      return InvalidArgument("page_token: not a token of this list");
    }
    from = ByReferrerKey(last);
    from.push_back('\0');  // the key right after the last one listed
  }
  std::lock_guard lock(mu_);
  v1::ListReferralsResponse response;
  std::string last_id;
  store_.Scan(kByReferrerCf, from, "", [&](std::string_view key, std::string_view) {
    if (key.substr(0, prefix.size()) != prefix) return false;
    size_t pos = prefix.size() + 8;
    std::string id;
    keys::ReadString(key, pos, id);
    if (response.referrals_size() == page_size) {
      response.set_next_page_token(last_id);
      return false;
    }
    if (v1::Referral* r = FindReferral(id); r != nullptr) *response.add_referrals() = *r;
    last_id = id;
    return true;
  });
  return response;
}

StatusOr<v1::ListReferralsResponse> ReferralCore::ListHeldReferrals(
    const v1::ListHeldReferralsRequest& request) {
  if (request.page_size() < 0 || request.page_size() > 1000) {
    return InvalidArgument("page_size: must be in 0..1000");
  }
  int page_size = request.page_size() == 0 ? 50 : request.page_size();
  std::string from = request.page_token();
  if (!from.empty()) from.push_back('\0');
  std::lock_guard lock(mu_);
  v1::ListReferralsResponse response;
  std::string last_id;
  store_.Scan(kHeldCf, from, "", [&](std::string_view key, std::string_view) {
    if (response.referrals_size() == page_size) {
      response.set_next_page_token(last_id);
      return false;
    }
    last_id = std::string(key);
    if (v1::Referral* r = FindReferral(last_id); r != nullptr) *response.add_referrals() = *r;
    return true;
  });
  return response;
}

StatusOr<v1::Referral> ReferralCore::Review(const char* method,
                                            const v1::ReviewReferralRequest& request,
                                            bool approve) {
  if (request.referral_id().empty()) return InvalidArgument("referral_id: required");
  if (request.actor().empty()) return InvalidArgument("actor: required");
  return Idempotent<v1::Referral>(
      method, request, request.idempotency_key(), [&](Txn& txn) -> StatusOr<v1::Referral> {
        v1::Referral* r = FindReferral(request.referral_id());
        if (r == nullptr) {
          return NotFound("referral_id: referral '" + request.referral_id() + "' not found");
        }
        if (r->status() != v1::REFERRAL_STATUS_HELD) {
          return FailedPrecondition("referral_id: referral '" + request.referral_id() +
                                    "' is not held");
        }
        r->set_reviewed_by(request.actor());
        if (!approve) {
          Reject(txn, *r, "operator",
                 request.note().empty() ? "rejected by " + request.actor() : request.note());
          return *r;
        }
        txn.Note("approved", r->reason());
        if (!r->purchase_id().empty()) {
          Qualify(txn, *r);
        } else {
          txn.Erase(kHeldCf, r->referral_id());
          r->set_status(v1::REFERRAL_STATUS_PENDING);
          Touch(txn, *r);
        }
        return *r;
      });
}

StatusOr<v1::Referral> ReferralCore::ApproveReferral(const v1::ReviewReferralRequest& request) {
  return Review("ApproveReferral", request, true);
}

StatusOr<v1::Referral> ReferralCore::RejectReferral(const v1::ReviewReferralRequest& request) {
  return Review("RejectReferral", request, false);
}

}  // namespace loyalty::referral
