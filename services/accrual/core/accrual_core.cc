#include "services/accrual/core/accrual_core.h"

#include <algorithm>
#include <cctype>

#include "common/audit_log.h"
#include "common/field_limits.h"
#include "common/idempotent.h"
#include "common/ids.h"
#include "common/key_codec.h"
#include "services/accrual/core/contact.h"
#include "services/accrual/core/lot_book.h"
#include "services/accrual/core/rules.h"
#include "services/accrual/core/validation.h"

namespace loyalty::accrual {
namespace {

using v1::internal::IdempotencyRecord;

std::string LedgerPrefix(const std::string& member_id) {
  std::string key;
  keys::AppendString(key, member_id);
  return key;
}

// The normalized contacts of an enrollment, as contact keys ("phone:...", "email:...").
struct Contacts {
  std::string phone, email;
  std::vector<std::string> keys;
};

StatusOr<Contacts> NormalizeContacts(const v1::EnrollMemberRequest& request,
                                     const AccrualConfig& config) {
  if (request.phone().empty() && request.email().empty()) {
    return InvalidArgument("phone: a phone or an email is required");
  }
  Contacts contacts;
  if (!request.phone().empty()) {
    auto normalized = NormalizePhone(request.phone(), config.default_country_code);
    if (!normalized.ok()) return normalized.status();
    contacts.phone = *normalized;
    contacts.keys.push_back("phone:" + contacts.phone);
  }
  if (!request.email().empty()) {
    auto normalized = NormalizeEmail(request.email());
    if (!normalized.ok()) return normalized.status();
    contacts.email = *normalized;
    contacts.keys.push_back("email:" + contacts.email);
  }
  return contacts;
}

Status ValidateLanguage(const std::string& language) {
  if (language.size() < 2 || language.size() > 15 ||
      !std::all_of(language.begin(), language.end(),
                   [](unsigned char c) { return std::isalpha(c) || c == '-'; })) {
    return InvalidArgument("language: '" + Quote(language) + "' is not a language tag");
  }
  return Status::Ok();
}

}  // namespace

std::vector<std::string> AccrualColumnFamilies() {
  return {cf::kMembers,
          cf::kContacts,
          cf::kLedger,
          cf::kPurchases,
          cf::kRefunds,
          cf::kParkedRefunds,
          cf::kHolds,
          cf::kHoldExpiry,
          cf::kIdempotency,
          cf::kOffsets,
          cf::kMeta,
          kOutboxCf,
          cf::kTimers,
          cf::kCampaigns,
          cf::kCampaignAudit,
          cf::kActivities,
          cf::kActivityObjects,
          cf::kHoldLots,
          kAuditCf};
}

AccrualCore::AccrualCore(Store& store, Outbox& outbox, const Clock& clock, AccrualConfig config)
    : store_(store),
      outbox_(outbox),
      clock_(clock),
      config_(std::move(config)),
      members_(store_, config_.member_cache_bytes),
      timers_(store_),
      ledger_(config_, clock_, timers_),
      milestones_(config_, clock_, ledger_),
      tiers_(config_, clock_, timers_, ledger_, milestones_),
      campaigns_(store_, clock_),
      partners_(store_, config_),
      holds_(store_, members_, ledger_, clock_),
      modules_{config_,     clock_, store_,     members_,  timers_, ledger_,
               milestones_, tiers_, campaigns_, partners_, holds_},
      refund_flow_(modules_),
      purchase_flow_(modules_, refund_flow_),
      activity_flow_(modules_),
      offsets_(store_, cf::kOffsets) {}

// --- staging and idempotent calls ---

uint64_t AccrualCore::Stage(Txn& txn) {
  uint64_t ticket = store_.Stage([&](StagedWrite& write) {
    members_.WriteDirty(txn, write);
    // Purchase records are read by the scheduler thread too: visible before durable.
    for (const auto& [id, record] : txn.purchases) {
      write.PutVisible(cf::kPurchases, id, record.SerializeAsString());
    }
    for (const auto& [refund_id, purchase_id] : txn.refunds) {
      write.PutVisible(cf::kRefunds, refund_id, purchase_id);
    }
    campaigns_.WriteDirty(txn, write);
    partners_.WriteDirty(txn, write);
    for (const auto& [purchase_id, parked] : txn.parked) {
      if (parked.refunds_size() == 0) {
        write.DeleteVisible(cf::kParkedRefunds, purchase_id);
      } else {
        write.PutVisible(cf::kParkedRefunds, purchase_id, parked.SerializeAsString());
      }
    }
    txn.WriteTo(write, outbox_);
  });
  // The transaction is over: no member pointer is held past this point.
  members_.Staged(txn, ticket);
  members_.Trim();
  return ticket;
}

void AccrualCore::Finish(uint64_t ticket, const std::vector<LedgerFacts>& facts) {
  store_.WaitDurable(ticket);
  if (on_commit_) on_commit_(facts);
}

template <typename Response, typename Request>
AccrualCore::Decided<Response> AccrualCore::Decide(
    const char* method, const Principal& caller, const Request& request, const std::string& key,
    const std::function<StatusOr<Response>(Txn&)>& apply) {
  // The administrative calls leave an audit record in the same write (common/audit_log.h).
  auto apply_and_audit = AuditedApply<Response, Txn>(
      IsAudited(method,
                {"AwardPoints", "AdjustPoints", "EraseMember", "CreateCampaign", "UpdateCampaign",
                 "EndCampaign", "SetMemberSegments", "PurchaseMembership"}),
      "accrual", "/loyalty.v1.AccrualService/", method, caller, request, clock_.NowMs(), apply);
  auto outcome = RunIdempotent<IdempotencyRecord, Response, Txn>(
      store_, mu_, clock_.NowMs(), method, caller, request, key, apply_and_audit,
      [this](Txn& txn) { return Stage(txn); });
  return {std::move(outcome.result), outcome.ticket, std::move(outcome.txn.facts)};
}

template <typename Response, typename Request>
StatusOr<Response> AccrualCore::Idempotent(const char* method, const Principal& caller,
                                           const Request& request, const std::string& key,
                                           const std::function<StatusOr<Response>(Txn&)>& apply) {
  Decided<Response> decided = Decide<Response>(method, caller, request, key, apply);
  if (decided.ticket != 0) Finish(decided.ticket, decided.facts);
  return std::move(decided.result);
}

template <typename Response>
void AccrualCore::AnswerWhenDurable(Decided<Response> decided,
                                    std::function<void(StatusOr<Response>)> done) {
  if (decided.ticket == 0) return done(std::move(decided.result));
  uint64_t ticket = decided.ticket;
  store_.WhenDurable(ticket, [this, decided = std::move(decided), done = std::move(done)] {
    if (on_commit_) on_commit_(decided.facts);
    done(decided.result);
  });
}

// --- members ---

StatusOr<v1::Member> AccrualCore::EnrollMember(const Principal& caller,
                                               const v1::EnrollMemberRequest& request) {
  return Idempotent<v1::Member>("EnrollMember", caller, request, request.idempotency_key(),
                                [&](Txn& txn) { return ApplyEnroll(txn, request); });
}

StatusOr<v1::EnrollMembersResponse> AccrualCore::EnrollMembers(
    const Principal& caller, const v1::EnrollMembersRequest& request) {
  if (request.members().empty()) return InvalidArgument("members: at least one is required");
  v1::EnrollMembersResponse response;
  uint64_t last_ticket = 0;
  std::vector<LedgerFacts> facts;
  // One decision at a time, each staged on its own: a later request sees the contacts, ids
  // and idempotency keys of the earlier ones (visible before durable).
  for (const v1::EnrollMemberRequest& item : request.members()) {
    Decided<v1::Member> decided =
        Decide<v1::Member>("EnrollMember", caller, item, item.idempotency_key(),
                           [&](Txn& txn) { return ApplyEnroll(txn, item); });
    v1::EnrollResult& result = *response.add_results();
    if (decided.result.ok()) {
      *result.mutable_member() = std::move(*decided.result);
    } else {
      result.set_code(static_cast<int32_t>(decided.result.status().code()));
      result.set_error(decided.result.status().message());
    }
    last_ticket = std::max(last_ticket, decided.ticket);
    for (auto& f : decided.facts) facts.push_back(std::move(f));
  }
  if (last_ticket != 0) Finish(last_ticket, facts);
  return response;
}

StatusOr<v1::Member> AccrualCore::ApplyEnroll(Txn& txn, const v1::EnrollMemberRequest& request) {
  auto contacts = NormalizeContacts(request, config_);
  if (!contacts.ok()) return contacts.status();
  for (const auto& contact : contacts->keys) {
    if (members_.ContactTaken(contact)) {
      std::string field = contact.substr(0, contact.find(':'));
      return AlreadyExists(field + ": " + contact.substr(field.size() + 1) +
                           " is already enrolled");
    }
  }
  std::string language = request.language().empty() ? config_.default_language : request.language();
  if (Status s = ValidateLanguage(language); !s.ok()) return s;
  std::string member_id = request.member_id();
  if (member_id.empty()) {
    member_id = DrawIdWhere([&] { return NewId("m", clock_.NowMs()); },
                            [&](std::string_view id) { return placement_.OwnsKey(id); });
  } else if (!ValidId(member_id)) {
    return InvalidArgument("member_id: use 1-128 letters, digits and _ - . : @");
  } else if (members_.Find(member_id) != nullptr) {
    return AlreadyExists("member_id: '" + Quote(member_id) + "' already exists");
  }
  MemberRecord& record = members_.Create(txn, member_id);
  record.set_enroll_idempotency_key(request.idempotency_key());
  record.set_enroll_principal(txn.principal);
  v1::Member& member = *record.mutable_member();
  member.set_member_id(member_id);
  member.set_phone(contacts->phone);
  member.set_email(contacts->email);
  member.set_status(v1::MEMBER_STATUS_ACTIVE);
  member.set_tier(config_.tiers.front().name);
  member.set_language(language);
  member.set_enrolled_at_ms(clock_.NowMs());
  member.mutable_balance();
  for (const auto& contact : contacts->keys) members_.AddContact(txn, contact, member_id);

  v1::LoyaltyEvent enrolled;
  auto* payload = enrolled.mutable_member_enrolled();
  payload->set_contact_kind(contacts->phone.empty() ? "email" : "phone");
  payload->set_tier(member.tier());
  payload->set_language(language);
  ledger_.Emit(txn, record, std::move(enrolled));
  if (config_.welcome_bonus > 0) {
    Points bonus(config_.welcome_bonus);
    Posting posting = CreditPosting(v1::LEDGER_KIND_AWARD, member.balance(), bonus);
    posting.reason = "welcome bonus";
    posting.source_id = "welcome";
    posting.metrics_source = "welcome";
    v1::LoyaltyEvent event;
    auto* awarded = event.mutable_points_awarded();
    awarded->set_points(bonus.value());
    awarded->set_reason("welcome bonus");
    awarded->set_source("welcome");
    ledger_.Post(txn, record, std::move(posting), std::move(event));
  }
  return View(record);
}

StatusOr<v1::Member> AccrualCore::GetMember(const std::string& member_id) {
  std::lock_guard lock(mu_);
  members_.Trim();  // reads fill the cache too
  if (member_id.empty()) return InvalidArgument("member_id: required");
  MemberRecord* member = members_.Find(member_id);
  if (member == nullptr) return NotFound("member_id: member '" + Quote(member_id) + "' not found");
  return View(*member);
}

v1::Member AccrualCore::View(const MemberRecord& record) const {
  v1::Member member = record.member();
  int64_t now = clock_.NowMs();
  *member.mutable_tier_progress() = Progress(config_, record, now);
  for (auto& badge : *member.mutable_badges()) {
    if (badge.title().empty()) badge.set_title(BadgeTitle(badge.id()));
  }
  for (const auto& lot : record.lots()) {
    if (lot.points() > 0 && lot.expires_at_ms() != 0) {
      member.set_next_expiry_points(lot.points());
      member.set_next_expiry_at_ms(lot.expires_at_ms());
      break;
    }
  }
  return member;
}

StatusOr<v1::GetBalanceResponse> AccrualCore::GetBalance(const std::string& member_id) {
  auto member = GetMember(member_id);
  if (!member.ok()) return member.status();
  v1::GetBalanceResponse response;
  response.set_member_id(member->member_id());
  response.set_tier(member->tier());
  *response.mutable_balance() = member->balance();
  *response.mutable_tier_progress() = member->tier_progress();
  response.set_next_expiry_points(member->next_expiry_points());
  response.set_next_expiry_at_ms(member->next_expiry_at_ms());
  return response;
}

StatusOr<v1::ListLedgerResponse> AccrualCore::ListLedger(const v1::ListLedgerRequest& request) {
  if (auto member = GetMember(request.member_id()); !member.ok()) return member.status();
  StatusOr<int> page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  std::string before;
  if (!request.page_token().empty()) {
    char* end = nullptr;
    long long sequence = std::strtoll(request.page_token().c_str(), &end, 10);
    if (*end != '\0' || sequence <= 0) return InvalidArgument("page_token: not a token");
    before = LedgerPrefix(request.member_id());
    keys::AppendU64(before, static_cast<uint64_t>(sequence));
  }
  v1::ListLedgerResponse response;
  store_.ScanBackward(
      cf::kLedger, LedgerPrefix(request.member_id()), before,
      [&](std::string_view, std::string_view value) {
        if (response.entries_size() == *page_size) {
          response.set_next_page_token(
              std::to_string(response.entries(response.entries_size() - 1).sequence()));
          return false;
        }
        response.add_entries()->ParseFromArray(value.data(), static_cast<int>(value.size()));
        return true;
      });
  std::lock_guard lock(mu_);
  for (auto& entry : *response.mutable_entries()) campaigns_.AddNames(*entry.mutable_breakdown());
  return response;
}

StatusOr<v1::EraseMemberResponse> AccrualCore::EraseMember(const Principal& caller,
                                                           const v1::EraseMemberRequest& request) {
  return Idempotent<v1::EraseMemberResponse>("EraseMember", caller, request,
                                             request.idempotency_key(),
                                             [&](Txn& txn) { return ApplyErase(txn, request); });
}

StatusOr<v1::EraseMemberResponse> AccrualCore::ApplyErase(Txn& txn,
                                                          const v1::EraseMemberRequest& request) {
  auto member = members_.FindActive("member_id", request.member_id());
  if (!member.ok()) return member.status();
  holds_.VoidAllOf(txn, request.member_id());
  // The remembered answer to the enrollment holds the contact: forget it too.
  if (!(*member)->enroll_idempotency_key().empty()) {
    txn.Erase(cf::kIdempotency,
              IdempotencyRecordKey("EnrollMember", Principal((*member)->enroll_principal()),
                                   (*member)->enroll_idempotency_key()));
    (*member)->clear_enroll_idempotency_key();
    (*member)->clear_enroll_principal();
  }
  v1::Member& m = *(*member)->mutable_member();
  if (!m.phone().empty()) members_.RemoveContact(txn, "phone:" + m.phone());
  if (!m.email().empty()) members_.RemoveContact(txn, "email:" + m.email());
  m.clear_phone();
  m.clear_email();
  m.set_status(v1::MEMBER_STATUS_ERASED);
  v1::LoyaltyEvent event;
  event.mutable_member_erased();
  ledger_.Emit(txn, **member, std::move(event));
  v1::EraseMemberResponse response;
  *response.mutable_member() = View(**member);
  return response;
}

StatusOr<v1::Member> AccrualCore::SetMemberSegments(const Principal& caller,
                                                    const v1::SetMemberSegmentsRequest& request) {
  return Idempotent<v1::Member>(
      "SetMemberSegments", caller, request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::Member> {
        for (const auto& segment : request.segments()) {
          if (!ValidId(segment)) {
            return InvalidArgument("segments: '" + Quote(segment) +
                                   "' must be 1-128 letters, digits and _ - . : @");
          }
        }
        auto member = members_.FindActive("member_id", request.member_id());
        if (!member.ok()) return member.status();
        *(*member)->mutable_member()->mutable_segments() = request.segments();
        MemberBook::Touch(txn, **member);
        return View(**member);
      });
}

StatusOr<v1::Member> AccrualCore::PurchaseMembership(const Principal& caller,
                                                     const v1::PurchaseMembershipRequest& request) {
  return Idempotent<v1::Member>(
      "PurchaseMembership", caller, request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::Member> {
        if (config_.TierIndex(request.tier()) < 0) {
          return InvalidArgument("tier: '" + Quote(request.tier()) + "' is not a tier");
        }
        if (request.days() <= 0 || request.days() > 3660) {
          return InvalidArgument("days: must be in 1..3660");
        }
        auto member = members_.FindActive("member_id", request.member_id());
        if (!member.ok()) return member.status();
        tiers_.BuyMembership(txn, **member, request.tier(), request.days());
        return View(**member);
      });
}

int64_t AccrualCore::MemberCount() const {
  std::lock_guard lock(mu_);
  return members_.count();
}

RecordCacheStats AccrualCore::MemberCacheStats() const {
  std::lock_guard lock(mu_);
  return members_.cache_stats();
}

// --- points: awards and adjustments ---

StatusOr<v1::LedgerEntry> AccrualCore::AwardPoints(const Principal& caller,
                                                   const v1::AwardPointsRequest& request) {
  return Idempotent<v1::LedgerEntry>("AwardPoints", caller, request, request.idempotency_key(),
                                     [&](Txn& txn) { return ApplyAward(txn, request); });
}

StatusOr<v1::LedgerEntry> AccrualCore::ApplyAward(Txn& txn, const v1::AwardPointsRequest& request) {
  if (request.points() <= 0 || request.points() > kMaxPointsPerCall) {
    return InvalidArgument("points: must be in 1.." + std::to_string(kMaxPointsPerCall));
  }
  if (request.reason().empty()) return InvalidArgument("reason: required");
  auto member = members_.FindActive("member_id", request.member_id());
  if (!member.ok()) return member.status();
  Points points(request.points());
  Points earned_before((*member)->member().balance().lifetime_earned());
  Posting posting = CreditPosting(v1::LEDGER_KIND_AWARD, (*member)->member().balance(), points);
  posting.reason = request.reason();
  posting.source_id = request.source().empty() ? request.idempotency_key()
                                               : request.source() + ":" + request.idempotency_key();
  posting.metrics_source = request.source();
  v1::LoyaltyEvent event;
  auto* awarded = event.mutable_points_awarded();
  awarded->set_points(points.value());
  awarded->set_reason(request.reason());
  awarded->set_source(request.source());
  Ledger::Posted posted = ledger_.Post(txn, **member, std::move(posting), std::move(event));
  milestones_.Check(txn, **member, /*purchase_counted=*/false, earned_before);
  return std::move(posted.entry);
}

StatusOr<v1::LedgerEntry> AccrualCore::AdjustPoints(const Principal& caller,
                                                    const v1::AdjustPointsRequest& request) {
  return Idempotent<v1::LedgerEntry>("AdjustPoints", caller, request, request.idempotency_key(),
                                     [&](Txn& txn) { return ApplyAdjust(txn, request); });
}

StatusOr<v1::LedgerEntry> AccrualCore::ApplyAdjust(Txn& txn,
                                                   const v1::AdjustPointsRequest& request) {
  if (request.delta() == 0 || request.delta() > kMaxPointsPerCall ||
      request.delta() < -kMaxPointsPerCall) {
    return InvalidArgument("delta: must be non-zero and at most " +
                           std::to_string(kMaxPointsPerCall) + " either way");
  }
  if (request.reason().empty()) return InvalidArgument("reason: required");
  if (request.actor().empty()) return InvalidArgument("actor: required");
  auto member = members_.FindActive("member_id", request.member_id());
  if (!member.ok()) return member.status();
  const v1::Balance& balance = (*member)->member().balance();
  Points delta(request.delta());
  if (delta.negative() && -delta.value() > balance.available() && !request.allow_debt()) {
    return FailedPrecondition("delta: " + std::to_string(request.delta()) + " exceeds the " +
                              std::to_string(balance.available()) + " points available");
  }
  Posting posting = delta.negative() ? DebitPosting(v1::LEDGER_KIND_ADJUST, balance, -delta)
                                     : CreditPosting(v1::LEDGER_KIND_ADJUST, balance, delta);
  posting.reason = request.reason() + " (by " + request.actor() + ")";
  posting.source_id = request.idempotency_key();
  v1::LoyaltyEvent event;
  auto* adjusted = event.mutable_points_adjusted();
  adjusted->set_delta(request.delta());
  adjusted->set_reason(request.reason());
  adjusted->set_actor(request.actor());
  return ledger_.Post(txn, **member, std::move(posting), std::move(event)).entry;
}

// --- holds ---

StatusOr<v1::Hold> AccrualCore::ApplyHold(Txn& txn, const v1::HoldPointsRequest& request) {
  if (request.points() <= 0 || request.points() > kMaxPointsPerCall) {
    return InvalidArgument("points: must be positive");
  }
  int64_t ttl =
      request.ttl_seconds() == 0 ? config_.default_hold_ttl_seconds : request.ttl_seconds();
  if (ttl < 0 || ttl > config_.max_hold_ttl_seconds) {
    return InvalidArgument("ttl_seconds: must be in 0.." +
                           std::to_string(config_.max_hold_ttl_seconds));
  }
  auto member = members_.FindActive("member_id", request.member_id());
  if (!member.ok()) return member.status();
  if (request.capture()) {
    return holds_.OpenCaptured(txn, **member, Points(request.points()), Seconds(ttl),
                               request.reference());
  }
  return holds_.Open(txn, **member, Points(request.points()), Seconds(ttl), request.reference());
}

StatusOr<v1::Hold> AccrualCore::HoldPoints(const Principal& caller,
                                           const v1::HoldPointsRequest& request) {
  return Idempotent<v1::Hold>("HoldPoints", caller, request, request.idempotency_key(),
                              [&](Txn& txn) { return ApplyHold(txn, request); });
}

void AccrualCore::HoldPointsAsync(const Principal& caller, const v1::HoldPointsRequest& request,
                                  HoldCallback done) {
  Decided<v1::Hold> decided =
      Decide<v1::Hold>("HoldPoints", caller, request, request.idempotency_key(),
                       [&](Txn& txn) { return ApplyHold(txn, request); });
  AnswerWhenDurable(std::move(decided), std::move(done));
}

StatusOr<v1::Hold> AccrualCore::CaptureHold(const Principal& caller,
                                            const v1::CaptureHoldRequest& request) {
  bool expired_now = false;
  auto result = Idempotent<v1::Hold>(
      "CaptureHold", caller, request, request.idempotency_key(), [&](Txn& txn) {
        return holds_.Capture(txn, request.hold_id(), Points(request.points()), expired_now);
      });
  if (expired_now) ExpireHolds();  // the expiry is a change of its own, made durable now
  return result;
}

void AccrualCore::CaptureHoldAsync(const Principal& caller, const v1::CaptureHoldRequest& request,
                                   HoldCallback done) {
  bool expired_now = false;
  Decided<v1::Hold> decided =
      Decide<v1::Hold>("CaptureHold", caller, request, request.idempotency_key(), [&](Txn& txn) {
        return holds_.Capture(txn, request.hold_id(), Points(request.points()), expired_now);
      });
  // Rare (the caller came back after the hold's time): this one waits for the expiry's write.
  if (expired_now) ExpireHolds();
  AnswerWhenDurable(std::move(decided), std::move(done));
}

StatusOr<v1::Hold> AccrualCore::VoidHold(const Principal& caller,
                                         const v1::VoidHoldRequest& request) {
  return Idempotent<v1::Hold>("VoidHold", caller, request, request.idempotency_key(),
                              [&](Txn& txn) { return holds_.Void(txn, request.hold_id()); });
}

int AccrualCore::ExpireHolds() {
  Txn txn;
  int expired = 0;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    expired = holds_.ExpireDue(txn, TimeMs(clock_.NowMs()));
    if (expired == 0) return 0;
    ticket = Stage(txn);
  }
  Finish(ticket, txn.facts);
  return expired;
}

void AccrualCore::SetPlacement(const Placement& placement) {
  std::lock_guard lock(mu_);
  placement_ = placement;
  holds_.set_partitions(placement.partitions);
}

int64_t AccrualCore::OpenHolds() const {
  std::lock_guard lock(mu_);
  return holds_.open_count();
}

// --- input from Kafka ---

BatchResult AccrualCore::ApplyBatch(const std::vector<InputMessage>& batch, const Decoder& decode) {
  StagedBatch staged = StageBatch(batch, decode);
  FinishBatch(staged);
  return staged.result;
}

BatchResult AccrualCore::ApplyBatch(const std::vector<Input>& inputs) {
  StagedBatch staged = StageBatch(inputs);
  FinishBatch(staged);
  return staged.result;
}

AccrualCore::StagedBatch AccrualCore::StageBatch(const std::vector<InputMessage>& batch,
                                                 const Decoder& decode) {
  return StageRecords(
      batch.size(), [&](size_t i) -> const InputMessage& { return batch[i]; },
      [&](size_t i, Txn& txn, BatchResult& result) {
        ApplyCommand(txn, batch[i], decode(batch[i]), result);
      });
}

AccrualCore::StagedBatch AccrualCore::StageBatch(const std::vector<Input>& inputs) {
  return StageRecords(
      inputs.size(), [&](size_t i) -> const InputMessage& { return inputs[i].source; },
      [&](size_t i, Txn& txn, BatchResult& result) {
        ApplyCommand(txn, inputs[i].source, inputs[i].command, result);
      });
}

AccrualCore::StagedBatch AccrualCore::StageRecords(
    size_t n, const std::function<const InputMessage&(size_t)>& source,
    const std::function<void(size_t, Txn&, BatchResult&)>& apply) {
  StagedBatch staged;
  // Input is keyed by member id: the batch's members are read in one MultiGet, not one Get
  // each as the records come (a miss of the member cache costs most of a purchase).
  std::vector<std::string> member_ids;
  member_ids.reserve(n);
  for (size_t i = 0; i < n; ++i) member_ids.push_back(source(i).key);
  std::lock_guard lock(mu_);
  members_.Prefetch(member_ids);
  Txn txn;
  for (size_t i = 0; i < n; ++i) {
    const InputMessage& record = source(i);
    if (offsets_.AlreadyApplied(record)) {
      ++staged.result.duplicates;  // the broker sent it again
      continue;
    }
    apply(i, txn, staged.result);
    offsets_.Advance(record);
  }
  offsets_.WriteTouched(txn);
  staged.ticket = Stage(txn);
  staged.facts = std::move(txn.facts);
  return staged;
}

void AccrualCore::ApplyCommand(Txn& txn, const InputMessage& source, const Command& command,
                               BatchResult& result) {
  struct Apply {
    AccrualCore& core;
    Txn& txn;
    const InputMessage& source;
    BatchResult& result;
    void operator()(const PurchaseCmd& c) {
      core.purchase_flow_.Apply(txn, source, c.purchase, result);
    }
    void operator()(const RefundCmd& c) { core.refund_flow_.Apply(txn, source, c.refund, result); }
    void operator()(const ActivityCmd& c) {
      core.activity_flow_.Apply(txn, source, c.activity, result);
    }
    void operator()(const Undecodable& c) { Reject(txn, source, c.kind, c.reason, result); }
  };
  std::visit(Apply{*this, txn, source, result}, command);
}

void AccrualCore::FinishBatch(const StagedBatch& staged) { Finish(staged.ticket, staged.facts); }

std::map<TopicPartition, int64_t> AccrualCore::StoredOffsets() const {
  std::lock_guard lock(mu_);
  return offsets_.next();
}

// --- timed work ---

int AccrualCore::RunTimers() {
  Txn txn;
  int ran = 0;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    std::vector<DueTimer> due = timers_.DueBy(TimeMs(clock_.NowMs()), 20'000);
    if (due.empty()) return 0;
    for (const auto& timer : due) {
      timers_.Run(txn, timer, members_.Find(timer.member_id));
      ++ran;
    }
    ticket = Stage(txn);
  }
  Finish(ticket, txn.facts);
  return ran;
}

// --- campaigns, simulation, partners ---

StatusOr<v1::Campaign> AccrualCore::CreateCampaign(const Principal& caller,
                                                   const v1::CreateCampaignRequest& request) {
  return Idempotent<v1::Campaign>("CreateCampaign", caller, request, request.idempotency_key(),
                                  [&](Txn& txn) { return campaigns_.Create(txn, request); });
}

StatusOr<v1::Campaign> AccrualCore::UpdateCampaign(const Principal& caller,
                                                   const v1::UpdateCampaignRequest& request) {
  return Idempotent<v1::Campaign>("UpdateCampaign", caller, request, request.idempotency_key(),
                                  [&](Txn& txn) { return campaigns_.Update(txn, request); });
}

StatusOr<v1::Campaign> AccrualCore::EndCampaign(const Principal& caller,
                                                const v1::EndCampaignRequest& request) {
  return Idempotent<v1::Campaign>("EndCampaign", caller, request, request.idempotency_key(),
                                  [&](Txn& txn) { return campaigns_.End(txn, request); });
}

StatusOr<v1::Campaign> AccrualCore::GetCampaign(const std::string& campaign_id) {
  std::lock_guard lock(mu_);
  return campaigns_.Get(campaign_id);
}

v1::ListCampaignsResponse AccrualCore::ListCampaigns(bool include_ended) {
  std::lock_guard lock(mu_);
  return campaigns_.List(include_ended);
}

StatusOr<v1::ListCampaignAuditResponse> AccrualCore::ListCampaignAudit(
    const std::string& campaign_id) {
  return campaigns_.Audit(campaign_id);  // reads the store only
}

StatusOr<v1::SimulatePurchaseResponse> AccrualCore::SimulatePurchase(
    const v1::PurchaseEvent& purchase) {
  std::lock_guard lock(mu_);
  members_.Trim();
  if (Status s = purchase_flow_.Validate(purchase); !s.ok()) return s;
  auto member = members_.FindActive("member_id", purchase.member_id());
  if (!member.ok()) return member.status();
  v1::SimulatePurchaseResponse response;
  *response.mutable_breakdown() =
      ComputeEarning(config_, **member, purchase, campaigns_.ByPriority(), clock_.NowMs());
  campaigns_.AddNames(*response.mutable_breakdown());
  response.set_points(response.breakdown().total_points());
  response.set_member_tier((*member)->member().tier());
  return response;
}

v1::ListPartnerStatsResponse AccrualCore::ListPartnerStats() {
  std::lock_guard lock(mu_);
  return partners_.List();
}

}  // namespace loyalty::accrual
