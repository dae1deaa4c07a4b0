#include "services/accrual/core/accrual_core.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <unordered_set>

#include "common/idempotent.h"
#include "common/ids.h"
#include "common/key_codec.h"
#include "services/accrual/core/contact.h"
#include "services/accrual/core/earning.h"
#include "services/accrual/core/rules.h"

namespace loyalty::accrual {
namespace {

constexpr char kMembersCf[] = "members";
constexpr char kContactsCf[] = "contacts";
constexpr char kLedgerCf[] = "ledger";
constexpr char kPurchasesCf[] = "purchases";
constexpr char kRefundsCf[] = "refunds";
constexpr char kParkedCf[] = "parked_refunds";
constexpr char kHoldsCf[] = "holds";
constexpr char kHoldExpiryCf[] = "hold_expiry";
constexpr char kIdempotencyCf[] = "idempotency";
constexpr char kOffsetsCf[] = "offsets";
constexpr char kMetaCf[] = "meta";
constexpr char kTimersCf[] = "timers";
constexpr char kCampaignsCf[] = "campaigns";
constexpr char kCampaignAuditCf[] = "campaign_audit";
constexpr char kActivitiesCf[] = "activities";
constexpr char kActivityObjectsCf[] = "activity_objects";
constexpr char kHoldLotsCf[] = "hold_lots";
constexpr char kMemberCountKey[] = "member_count";
constexpr char kPartnerStatsPrefix[] = "partner/";

constexpr int64_t kMaxPointsPerCall = 1'000'000'000'000;
constexpr size_t kMaxIdLength = 128;

using v1::internal::IdempotencyRecord;
using v1::internal::OutboxRecord;
using v1::internal::ParkedRefunds;
using v1::internal::PurchaseRecord;

std::string LedgerPrefix(const std::string& member_id) {
  std::string key;
  keys::AppendString(key, member_id);
  return key;
}

std::string LedgerKey(const std::string& member_id, int64_t sequence) {
  std::string key = LedgerPrefix(member_id);
  keys::AppendU64(key, static_cast<uint64_t>(sequence));
  return key;
}

std::string HoldExpiryKey(int64_t expires_at_ms, const std::string& hold_id) {
  std::string key;
  keys::AppendI64(key, expires_at_ms);
  key += hold_id;
  return key;
}

using keys::EncodeI64;

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '@';
  });
}

template <typename Message>
Status Decode(const std::string& value, Message* message) {
  if (!value.empty() && value[0] == '{') {
    auto status = google::protobuf::util::JsonStringToMessage(value, message);
    if (!status.ok())
      return InvalidArgument("not valid JSON for " + message->GetTypeName() + ": " +
                             std::string(status.message()));
    return Status::Ok();
  }
  if (!message->ParseFromString(value)) {
    return InvalidArgument("not a protobuf " + message->GetTypeName());
  }
  return Status::Ok();
}

Status ValidateLines(const google::protobuf::RepeatedPtrField<v1::PurchaseLine>& lines) {
  for (int i = 0; i < lines.size(); ++i) {
    if (lines[i].quantity() < 0) {
      return InvalidArgument("lines[" + std::to_string(i) + "].quantity: must not be negative");
    }
    if (lines[i].unit_price_minor() < 0) {
      return InvalidArgument("lines[" + std::to_string(i) +
                             "].unit_price_minor: must not be negative");
    }
  }
  return Status::Ok();
}

// Timed work, keyed (due, kind, member, reference) so that a scan in key order runs what is
// due, oldest first, and each timer is deleted in the same write as its effect.
enum class TimerKind : uint8_t {
  kReleasePending = 1,  // reference: purchase_id
  kExpireLot = 2,       // reference: the lot's expiry date
  kRemindLot = 3,       // reference: the lot's expiry date
  kTierReview = 4,
  kMembershipEnd = 5,
};

std::string TimerKey(int64_t due_ms, TimerKind kind, const std::string& member_id,
                     const std::string& reference) {
  std::string key;
  keys::AppendI64(key, due_ms);
  key.push_back(static_cast<char>(kind));
  keys::AppendString(key, member_id);
  keys::AppendString(key, reference);
  return key;
}

std::string ActivityObjectKey(const std::string& member_id, const std::string& type,
                              const std::string& object_id) {
  std::string key;
  keys::AppendString(key, member_id);
  keys::AppendString(key, type);
  keys::AppendString(key, object_id);
  return key;
}

std::string FormatPercent(int32_t bp) {
  std::string s = std::to_string(bp / 100);
  if (bp % 100 != 0) {
    std::string frac = std::to_string(bp % 100);
    if (frac.size() == 1) frac = "0" + frac;
    if (frac.back() == '0') frac.pop_back();
    s += "." + frac;
  }
  return s + "%";
}

// The title of a badge, from its id ("purchases_10" -> "10 purchases").
std::string BadgeTitle(const std::string& id) {
  auto after = [&](std::string_view prefix) -> std::optional<std::string> {
    if (id.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    return id.substr(prefix.size());
  };
  if (id == "first_purchase") return "First purchase";
  if (auto n = after("purchases_")) return *n + " purchases";
  if (auto n = after("points_")) return *n + " points earned";
  if (auto tier = after("tier_")) return "Reached " + *tier;
  return id;
}

}  // namespace

std::vector<std::string> AccrualColumnFamilies() {
  return {kMembersCf,    kContactsCf,        kLedgerCf,     kPurchasesCf,   kRefundsCf,
          kParkedCf,     kHoldsCf,           kHoldExpiryCf, kIdempotencyCf, kOffsetsCf,
          kMetaCf,       kOutboxCf,          kTimersCf,     kCampaignsCf,   kCampaignAuditCf,
          kActivitiesCf, kActivityObjectsCf, kHoldLotsCf};
}

// The changes of one call or one batch, staged together.
struct AccrualCore::Txn {
  struct Op {
    const char* cf;
    std::string key;
    std::string value;
    bool visible = false;
    bool erase = false;
  };
  std::vector<Op> ops;
  std::vector<OutboxRecord> outbox;
  std::unordered_set<MemberRecord*> dirty_members;            // records stay put in members_
  std::unordered_map<std::string, PurchaseRecord> purchases;  // applied in this batch
  std::unordered_map<std::string, std::string> refunds;       // refund_id -> purchase_id
  std::unordered_map<std::string, ParkedRefunds> parked;      // by purchase_id
  bool member_count_changed = false;
  std::unordered_set<const v1::Campaign*> dirty_campaigns;  // records stay put in campaigns_
  std::set<std::string> dirty_partners;
  std::set<std::string> activities;        // activity ids applied in this batch
  std::set<std::string> activity_objects;  // (member, type, object) rewarded in this batch
  std::vector<LedgerFacts> facts;

  void Put(const char* cf, std::string key, std::string value, bool visible = false) {
    ops.push_back({cf, std::move(key), std::move(value), visible, false});
  }
  void Erase(const char* cf, std::string key) {
    ops.push_back({cf, std::move(key), "", false, true});
  }
};

AccrualCore::AccrualCore(Store& store, Outbox& outbox, const Clock& clock, AccrualConfig config)
    : store_(store), outbox_(outbox), clock_(clock), config_(std::move(config)) {
  std::string value;
  if (store_.Get(kMetaCf, kMemberCountKey, &value)) member_count_ = keys::ReadI64(value);
  store_.Scan(kHoldExpiryCf, "", "", [&](std::string_view key, std::string_view) {
    open_holds_.emplace(keys::ReadI64(key), std::string(key.substr(8)));
    return true;
  });
  store_.Scan(kCampaignsCf, "", "", [&](std::string_view key, std::string_view v) {
    v1::internal::CampaignRecord record;
    record.ParseFromArray(v.data(), static_cast<int>(v.size()));
    campaigns_[std::string(key)] = record.campaign();
    return true;
  });
  store_.Scan(kMetaCf, kPartnerStatsPrefix, "", [&](std::string_view key, std::string_view v) {
    if (key.substr(0, sizeof(kPartnerStatsPrefix) - 1) != kPartnerStatsPrefix) return false;
    v1::PartnerStats stats;
    stats.ParseFromArray(v.data(), static_cast<int>(v.size()));
    partner_stats_[stats.partner_id()] = stats;
    return true;
  });
  for (const auto& partner : config_.partners) {
    auto& stats = partner_stats_[partner.partner_id];
    stats.set_partner_id(partner.partner_id);
    stats.set_earn_rate_bp(partner.earn_rate_bp);
  }
  store_.Scan(kOffsetsCf, "", "", [&](std::string_view key, std::string_view v) {
    size_t pos = 0;
    std::string topic;
    keys::ReadString(key, pos, topic);
    offsets_[{topic, static_cast<int32_t>(keys::ReadU64(key, pos))}] = keys::ReadI64(v);
    return true;
  });
}

AccrualCore::MemberRecord* AccrualCore::FindMember(const std::string& member_id) {
  if (auto it = members_.find(member_id); it != members_.end()) return &it->second;
  std::string value;
  if (member_id.empty() || !store_.Get(kMembersCf, member_id, &value)) return nullptr;
  MemberRecord& slot = members_[member_id];
  if (!slot.ParseFromString(value)) {
    members_.erase(member_id);
    return nullptr;
  }
  return &slot;
}

StatusOr<AccrualCore::MemberRecord*> AccrualCore::FindActiveMember(const std::string& field,
                                                                   const std::string& id) {
  if (id.empty()) return InvalidArgument(field + ": required");
  MemberRecord* member = FindMember(id);
  if (member == nullptr) return NotFound(field + ": member '" + id + "' not found");
  if (member->member().status() == v1::MEMBER_STATUS_ERASED) {
    return FailedPrecondition(field + ": member '" + id + "' is erased");
  }
  return member;
}

const TierRule& AccrualCore::TierOf(const MemberRecord& member) const {
  for (const auto& tier : config_.tiers) {
    if (tier.name == member.member().tier()) return tier;
  }
  return config_.tiers.front();
}

void AccrualCore::AddEvent(Txn& txn, MemberRecord& member, v1::LoyaltyEvent event) {
  int64_t sequence = member.last_sequence() + 1;
  member.set_last_sequence(sequence);
  const std::string& member_id = member.member().member_id();
  event.set_event_id(member_id + ":" + std::to_string(sequence));
  event.set_member_id(member_id);
  event.set_sequence(sequence);
  event.set_occurred_at_ms(clock_.NowMs());
  event.set_source_service("accrual");
  OutboxRecord record;
  record.set_topic(kEventsTopic);
  record.set_key(member_id);
  record.set_value(event.SerializeAsString());
  txn.outbox.push_back(std::move(record));
  txn.dirty_members.insert(&member);
}

v1::LedgerEntry AccrualCore::AddEntry(Txn& txn, MemberRecord& member, v1::LedgerEntry entry,
                                      v1::LoyaltyEvent event, std::string source) {
  LedgerFacts facts{entry.kind(), 0, std::move(source)};
  switch (entry.kind()) {
    case v1::LEDGER_KIND_EARN:
      facts.points = entry.breakdown().total_points();
      break;
    case v1::LEDGER_KIND_CLAWBACK:
      facts.points = entry.debt_delta() - entry.available_delta() - entry.pending_delta();
      break;
    case v1::LEDGER_KIND_PENDING_RELEASE:
      facts.points = -entry.pending_delta();
      break;
    case v1::LEDGER_KIND_EXPIRE:
      facts.points = -entry.available_delta();
      break;
    case v1::LEDGER_KIND_HOLD:
      facts.points = entry.held_delta();
      break;
    case v1::LEDGER_KIND_CAPTURE:
      facts.points = -entry.held_delta() - entry.available_delta();
      break;
    case v1::LEDGER_KIND_VOID:
    case v1::LEDGER_KIND_HOLD_EXPIRED:
      facts.points = entry.available_delta();
      break;
    default:
      facts.points = entry.available_delta() - entry.debt_delta();
      break;
  }
  txn.facts.push_back(std::move(facts));
  AddEvent(txn, member, std::move(event));
  entry.set_member_id(member.member().member_id());
  entry.set_sequence(member.last_sequence());
  entry.set_occurred_at_ms(clock_.NowMs());
  *entry.mutable_balance_after() = member.member().balance();
  txn.Put(kLedgerCf, LedgerKey(entry.member_id(), entry.sequence()), entry.SerializeAsString());
  return entry;
}

uint64_t AccrualCore::Stage(Txn& txn) {
  return store_.Stage([&](StagedWrite& write) {
    for (const MemberRecord* member : txn.dirty_members) {
      write.Put(kMembersCf, member->member().member_id(), member->SerializeAsString());
    }
    // Purchase records are read by the scheduler thread too: visible before durable.
    for (const auto& [id, record] : txn.purchases) {
      write.PutVisible(kPurchasesCf, id, record.SerializeAsString());
    }
    for (const auto& [refund_id, purchase_id] : txn.refunds) {
      write.PutVisible(kRefundsCf, refund_id, purchase_id);
    }
    for (const v1::Campaign* campaign : txn.dirty_campaigns) {
      v1::internal::CampaignRecord record;
      *record.mutable_campaign() = *campaign;
      write.Put(kCampaignsCf, campaign->campaign_id(), record.SerializeAsString());
    }
    for (const auto& id : txn.dirty_partners) {
      write.Put(kMetaCf, kPartnerStatsPrefix + id, partner_stats_.at(id).SerializeAsString());
    }
    for (const auto& [purchase_id, parked] : txn.parked) {
      if (parked.refunds_size() == 0) {
        write.DeleteVisible(kParkedCf, purchase_id);
      } else {
        write.PutVisible(kParkedCf, purchase_id, parked.SerializeAsString());
      }
    }
    for (const auto& op : txn.ops) {
      if (op.erase) {
        write.Delete(op.cf, op.key);
      } else if (op.visible) {
        write.PutVisible(op.cf, op.key, op.value);
      } else {
        write.Put(op.cf, op.key, op.value);
      }
    }
    if (txn.member_count_changed) write.Put(kMetaCf, kMemberCountKey, EncodeI64(member_count_));
    for (const auto& record : txn.outbox) outbox_.Add(write, record);
  });
}

void AccrualCore::Finish(uint64_t ticket, const std::vector<LedgerFacts>& facts) {
  store_.WaitDurable(ticket);
  if (on_commit_) on_commit_(facts);
}

template <typename Response, typename Request>
AccrualCore::Decided<Response> AccrualCore::Decide(
    const char* method, const Request& request, const std::string& key,
    const std::function<StatusOr<Response>(Txn&)>& apply) {
  auto outcome = RunIdempotent<IdempotencyRecord, Response, Txn>(
      store_, mu_, clock_.NowMs(), method, request, key, apply,
      [this](Txn& txn) { return Stage(txn); });
  return {std::move(outcome.result), outcome.ticket, std::move(outcome.txn.facts)};
}

template <typename Response, typename Request>
StatusOr<Response> AccrualCore::Idempotent(const char* method, const Request& request,
                                           const std::string& key,
                                           const std::function<StatusOr<Response>(Txn&)>& apply) {
  Decided<Response> decided = Decide<Response>(method, request, key, apply);
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

StatusOr<v1::Member> AccrualCore::EnrollMember(const v1::EnrollMemberRequest& request) {
  return Idempotent<v1::Member>(
      "EnrollMember", request, request.idempotency_key(), [&](Txn& txn) -> StatusOr<v1::Member> {
        if (request.phone().empty() && request.email().empty()) {
          return InvalidArgument("phone: a phone or an email is required");
        }
        std::string phone, email;
        std::vector<std::string> contact_keys;
        if (!request.phone().empty()) {
          auto normalized = NormalizePhone(request.phone(), config_.default_country_code);
          if (!normalized.ok()) return normalized.status();
          phone = *normalized;
          contact_keys.push_back("phone:" + phone);
        }
        if (!request.email().empty()) {
          auto normalized = NormalizeEmail(request.email());
          if (!normalized.ok()) return normalized.status();
          email = *normalized;
          contact_keys.push_back("email:" + email);
        }
        for (const auto& contact : contact_keys) {
          std::string owner;
          if (store_.Get(kContactsCf, contact, &owner)) {
            std::string field = contact.substr(0, contact.find(':'));
            return AlreadyExists(field + ": " + contact.substr(field.size() + 1) +
                                 " is already enrolled");
          }
        }
        std::string language =
            request.language().empty() ? config_.default_language : request.language();
        if (language.size() < 2 || language.size() > 15 ||
            !std::all_of(language.begin(), language.end(),
                         [](unsigned char c) { return std::isalpha(c) || c == '-'; })) {
          return InvalidArgument("language: '" + language + "' is not a language tag");
        }
        std::string member_id = request.member_id();
        if (member_id.empty()) {
          member_id = NewId("m", clock_.NowMs());
        } else if (!ValidId(member_id)) {
          return InvalidArgument("member_id: use 1-128 letters, digits and _ - . : @");
        } else if (FindMember(member_id) != nullptr) {
          return AlreadyExists("member_id: '" + member_id + "' already exists");
        }

        MemberRecord& record = members_[member_id];
        record.set_enroll_idempotency_key(request.idempotency_key());
        v1::Member& member = *record.mutable_member();
        member.set_member_id(member_id);
        member.set_phone(phone);
        member.set_email(email);
        member.set_status(v1::MEMBER_STATUS_ACTIVE);
        member.set_tier(config_.tiers.front().name);
        member.set_language(language);
        member.set_enrolled_at_ms(clock_.NowMs());
        member.mutable_balance();
        for (const auto& contact : contact_keys) {
          txn.Put(kContactsCf, contact, member_id, /*visible=*/true);
        }
        ++member_count_;
        txn.member_count_changed = true;

        v1::LoyaltyEvent enrolled;
        auto* payload = enrolled.mutable_member_enrolled();
        payload->set_contact_kind(phone.empty() ? "email" : "phone");
        payload->set_tier(member.tier());
        payload->set_language(language);
        AddEvent(txn, record, std::move(enrolled));

        if (config_.welcome_bonus > 0) {
          int64_t bonus = config_.welcome_bonus;
          CreditAvailable(txn, record, bonus);
          member.mutable_balance()->set_lifetime_earned(bonus);
          v1::LedgerEntry entry;
          entry.set_kind(v1::LEDGER_KIND_AWARD);
          entry.set_available_delta(bonus);
          entry.set_reason("welcome bonus");
          entry.set_source_id("welcome");
          v1::LoyaltyEvent event;
          auto* awarded = event.mutable_points_awarded();
          awarded->set_points(bonus);
          awarded->set_reason("welcome bonus");
          awarded->set_source("welcome");
          *awarded->mutable_balance() = member.balance();
          AddEntry(txn, record, std::move(entry), std::move(event), "welcome");
        }
        return View(record);
      });
}

StatusOr<v1::Member> AccrualCore::GetMember(const std::string& member_id) {
  std::lock_guard lock(mu_);
  if (member_id.empty()) return InvalidArgument("member_id: required");
  MemberRecord* member = FindMember(member_id);
  if (member == nullptr) return NotFound("member_id: member '" + member_id + "' not found");
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
  {
    auto member = GetMember(request.member_id());
    if (!member.ok()) return member.status();
  }
  int page_size = request.page_size() == 0 ? 50 : request.page_size();
  if (page_size < 0 || page_size > 1000) return InvalidArgument("page_size: must be 0..1000");
  std::string before;
  if (!request.page_token().empty()) {
    char* end = nullptr;
    long long sequence = std::strtoll(request.page_token().c_str(), &end, 10);
    if (*end != '\0' || sequence <= 0) return InvalidArgument("page_token: not a token");
    before = LedgerKey(request.member_id(), sequence);
  }
  v1::ListLedgerResponse response;
  store_.ScanBackward(
      kLedgerCf, LedgerPrefix(request.member_id()), before,
      [&](std::string_view, std::string_view value) {
        if (response.entries_size() == page_size) {
          response.set_next_page_token(
              std::to_string(response.entries(response.entries_size() - 1).sequence()));
          return false;
        }
        response.add_entries()->ParseFromArray(value.data(), static_cast<int>(value.size()));
        return true;
      });
  std::lock_guard lock(mu_);
  for (auto& entry : *response.mutable_entries()) AddCampaignNames(*entry.mutable_breakdown());
  return response;
}

StatusOr<v1::LedgerEntry> AccrualCore::AwardPoints(const v1::AwardPointsRequest& request) {
  return Idempotent<v1::LedgerEntry>(
      "AwardPoints", request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::LedgerEntry> {
        if (request.points() <= 0 || request.points() > kMaxPointsPerCall) {
          return InvalidArgument("points: must be in 1.." + std::to_string(kMaxPointsPerCall));
        }
        if (request.reason().empty()) return InvalidArgument("reason: required");
        auto member = FindActiveMember("member_id", request.member_id());
        if (!member.ok()) return member.status();
        v1::Balance& balance = *(*member)->mutable_member()->mutable_balance();
        int64_t earned_before = balance.lifetime_earned();
        int64_t repaid = CreditAvailable(txn, **member, request.points());
        balance.set_lifetime_earned(balance.lifetime_earned() + request.points());
        v1::LedgerEntry entry;
        entry.set_kind(v1::LEDGER_KIND_AWARD);
        entry.set_available_delta(request.points() - repaid);
        entry.set_debt_delta(-repaid);
        entry.set_reason(request.reason());
        entry.set_source_id(request.source().empty()
                                ? request.idempotency_key()
                                : request.source() + ":" + request.idempotency_key());
        v1::LoyaltyEvent event;
        auto* awarded = event.mutable_points_awarded();
        awarded->set_points(request.points());
        awarded->set_reason(request.reason());
        awarded->set_source(request.source());
        *awarded->mutable_balance() = balance;
        v1::LedgerEntry added =
            AddEntry(txn, **member, std::move(entry), std::move(event), request.source());
        CheckMilestones(txn, **member, /*purchase_counted=*/false, earned_before);
        return added;
      });
}

StatusOr<v1::LedgerEntry> AccrualCore::AdjustPoints(const v1::AdjustPointsRequest& request) {
  return Idempotent<v1::LedgerEntry>(
      "AdjustPoints", request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::LedgerEntry> {
        if (request.delta() == 0 || request.delta() > kMaxPointsPerCall ||
            request.delta() < -kMaxPointsPerCall) {
          return InvalidArgument("delta: must be non-zero and at most " +
                                 std::to_string(kMaxPointsPerCall) + " either way");
        }
        if (request.reason().empty()) return InvalidArgument("reason: required");
        if (request.actor().empty()) return InvalidArgument("actor: required");
        auto member = FindActiveMember("member_id", request.member_id());
        if (!member.ok()) return member.status();
        v1::Balance& balance = *(*member)->mutable_member()->mutable_balance();
        v1::LedgerEntry entry;
        entry.set_kind(v1::LEDGER_KIND_ADJUST);
        if (request.delta() < 0) {
          int64_t take = -request.delta();
          if (take > balance.available() && !request.allow_debt()) {
            return FailedPrecondition("delta: " + std::to_string(request.delta()) +
                                      " exceeds the " + std::to_string(balance.available()) +
                                      " points available");
          }
          int64_t from_balance = std::min(take, balance.available());
          DebitAvailable(**member, from_balance);
          balance.set_debt(balance.debt() + take - from_balance);
          entry.set_available_delta(-from_balance);
          entry.set_debt_delta(take - from_balance);
        } else {
          int64_t repaid = CreditAvailable(txn, **member, request.delta());
          entry.set_available_delta(request.delta() - repaid);
          entry.set_debt_delta(-repaid);
        }
        entry.set_reason(request.reason() + " (by " + request.actor() + ")");
        entry.set_source_id(request.idempotency_key());
        v1::LoyaltyEvent event;
        auto* adjusted = event.mutable_points_adjusted();
        adjusted->set_delta(request.delta());
        adjusted->set_reason(request.reason());
        adjusted->set_actor(request.actor());
        *adjusted->mutable_balance() = balance;
        return AddEntry(txn, **member, std::move(entry), std::move(event));
      });
}

StatusOr<v1::Hold> AccrualCore::LoadHold(const std::string& hold_id) {
  if (hold_id.empty()) return InvalidArgument("hold_id: required");
  std::string value;
  v1::Hold hold;
  if (!store_.Get(kHoldsCf, hold_id, &value) || !hold.ParseFromString(value)) {
    return NotFound("hold_id: hold '" + hold_id + "' not found");
  }
  return hold;
}

std::vector<v1::internal::Lot> AccrualCore::LoadHoldLots(const std::string& hold_id) {
  std::string value;
  v1::internal::HoldLots lots;
  if (store_.Get(kHoldLotsCf, hold_id, &value)) lots.ParseFromString(value);
  return {lots.lots().begin(), lots.lots().end()};
}

StatusOr<v1::Hold> AccrualCore::HoldPoints(const v1::HoldPointsRequest& request) {
  return Idempotent<v1::Hold>("HoldPoints", request, request.idempotency_key(),
                              [&](Txn& txn) { return ApplyHold(txn, request); });
}

void AccrualCore::HoldPointsAsync(const v1::HoldPointsRequest& request, HoldCallback done) {
  Decided<v1::Hold> decided = Decide<v1::Hold>("HoldPoints", request, request.idempotency_key(),
                                               [&](Txn& txn) { return ApplyHold(txn, request); });
  AnswerWhenDurable(std::move(decided), std::move(done));
}

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
  auto member = FindActiveMember("member_id", request.member_id());
  if (!member.ok()) return member.status();
  v1::Balance& balance = *(*member)->mutable_member()->mutable_balance();
  if (request.points() > balance.available()) {
    return FailedPrecondition("points: " + std::to_string(request.points()) +
                              " requested but only " + std::to_string(balance.available()) +
                              " available");
  }
  std::vector<v1::internal::Lot> taken = DebitAvailable(**member, request.points());
  balance.set_held(balance.held() + request.points());

  int64_t now = clock_.NowMs();
  v1::Hold hold;
  hold.set_hold_id(NewId("h", now));
  hold.set_member_id(request.member_id());
  hold.set_points(request.points());
  hold.set_status(v1::HOLD_STATUS_OPEN);
  hold.set_created_at_ms(now);
  hold.set_expires_at_ms(now + ttl * 1000);
  hold.set_reference(request.reference());

  v1::LedgerEntry entry;
  entry.set_kind(v1::LEDGER_KIND_HOLD);
  entry.set_available_delta(-request.points());
  entry.set_held_delta(request.points());
  entry.set_reason(request.reference().empty() ? "points held"
                                               : "points held for " + request.reference());
  entry.set_source_id(hold.hold_id());
  v1::LoyaltyEvent event;
  auto* held = event.mutable_points_held();
  held->set_hold_id(hold.hold_id());
  held->set_points(request.points());
  held->set_expires_at_ms(hold.expires_at_ms());
  held->set_reference(request.reference());
  *held->mutable_balance() = balance;
  AddEntry(txn, **member, std::move(entry), std::move(event));

  txn.Put(kHoldsCf, hold.hold_id(), hold.SerializeAsString(), /*visible=*/true);
  v1::internal::HoldLots hold_lots;
  for (auto& lot : taken) *hold_lots.add_lots() = std::move(lot);
  txn.Put(kHoldLotsCf, hold.hold_id(), hold_lots.SerializeAsString(), /*visible=*/true);
  txn.Put(kHoldExpiryCf, HoldExpiryKey(hold.expires_at_ms(), hold.hold_id()), "");
  open_holds_.emplace(hold.expires_at_ms(), hold.hold_id());
  *hold.mutable_balance() = balance;
  return hold;
}

v1::Hold AccrualCore::ReleaseHold(Txn& txn, v1::Hold hold, v1::HoldStatus status) {
  MemberRecord* member = FindMember(hold.member_id());
  v1::Balance& balance = *member->mutable_member()->mutable_balance();
  balance.set_held(balance.held() - hold.points());
  RestoreLots(txn, *member, LoadHoldLots(hold.hold_id()));
  txn.Erase(kHoldLotsCf, hold.hold_id());
  hold.set_status(status);

  bool expired = status == v1::HOLD_STATUS_EXPIRED;
  v1::LedgerEntry entry;
  entry.set_kind(expired ? v1::LEDGER_KIND_HOLD_EXPIRED : v1::LEDGER_KIND_VOID);
  entry.set_available_delta(hold.points());
  entry.set_held_delta(-hold.points());
  entry.set_reason(expired ? "hold expired" : "hold voided");
  entry.set_source_id(hold.hold_id());
  v1::LoyaltyEvent event;
  auto* released = expired ? event.mutable_hold_expired() : event.mutable_hold_voided();
  released->set_hold_id(hold.hold_id());
  released->set_released(hold.points());
  released->set_reference(hold.reference());
  *released->mutable_balance() = balance;
  AddEntry(txn, *member, std::move(entry), std::move(event));

  hold.clear_balance();
  txn.Put(kHoldsCf, hold.hold_id(), hold.SerializeAsString(), /*visible=*/true);
  txn.Erase(kHoldExpiryCf, HoldExpiryKey(hold.expires_at_ms(), hold.hold_id()));
  open_holds_.erase({hold.expires_at_ms(), hold.hold_id()});
  *hold.mutable_balance() = balance;
  return hold;
}

StatusOr<v1::Hold> AccrualCore::CaptureHold(const v1::CaptureHoldRequest& request) {
  bool expired_now = false;
  auto result =
      Idempotent<v1::Hold>("CaptureHold", request, request.idempotency_key(),
                           [&](Txn& txn) { return ApplyCapture(txn, request, expired_now); });
  if (expired_now) ExpireHolds();  // the expiry is a change of its own, made durable now
  return result;
}

void AccrualCore::CaptureHoldAsync(const v1::CaptureHoldRequest& request, HoldCallback done) {
  bool expired_now = false;
  Decided<v1::Hold> decided =
      Decide<v1::Hold>("CaptureHold", request, request.idempotency_key(),
                       [&](Txn& txn) { return ApplyCapture(txn, request, expired_now); });
  // Rare (the caller came back after the hold's time): this one waits for the expiry's write.
  if (expired_now) ExpireHolds();
  AnswerWhenDurable(std::move(decided), std::move(done));
}

StatusOr<v1::Hold> AccrualCore::ApplyCapture(Txn& txn, const v1::CaptureHoldRequest& request,
                                             bool& expired_now) {
  auto loaded = LoadHold(request.hold_id());
  if (!loaded.ok()) return loaded.status();
  v1::Hold hold = std::move(*loaded);
  if (hold.status() != v1::HOLD_STATUS_OPEN) {
    return FailedPrecondition("hold_id: hold is " + v1::HoldStatus_Name(hold.status()));
  }
  int64_t points = request.points() == 0 ? hold.points() : request.points();
  if (points < 0) return InvalidArgument("points: must not be negative");
  if (points > hold.points()) {
    return InvalidArgument("points: " + std::to_string(points) + " exceeds the " +
                           std::to_string(hold.points()) + " held");
  }
  if (clock_.NowMs() >= hold.expires_at_ms()) {
    expired_now = true;
    return FailedPrecondition("hold_id: hold expired");
  }
  MemberRecord* member = FindMember(hold.member_id());
  v1::Balance& balance = *member->mutable_member()->mutable_balance();
  int64_t released = hold.points() - points;
  balance.set_held(balance.held() - hold.points());
  // The captured points leave the lots that expire first; the rest goes back.
  std::vector<v1::internal::Lot> lots = LoadHoldLots(hold.hold_id());
  int64_t to_spend = points;
  std::vector<v1::internal::Lot> back;
  for (auto& lot : lots) {
    int64_t spend = std::min(to_spend, lot.points());
    to_spend -= spend;
    if (lot.points() > spend) {
      lot.set_points(lot.points() - spend);
      back.push_back(lot);
    }
  }
  RestoreLots(txn, *member, back);
  txn.Erase(kHoldLotsCf, hold.hold_id());
  balance.set_lifetime_spent(balance.lifetime_spent() + points);
  hold.set_captured(points);
  hold.set_status(v1::HOLD_STATUS_CAPTURED);

  v1::LedgerEntry entry;
  entry.set_kind(v1::LEDGER_KIND_CAPTURE);
  entry.set_available_delta(released);
  entry.set_held_delta(-hold.points());
  entry.set_reason(hold.reference().empty() ? "points spent"
                                            : "points spent on " + hold.reference());
  entry.set_source_id(hold.hold_id());
  v1::LoyaltyEvent event;
  auto* captured = event.mutable_hold_captured();
  captured->set_hold_id(hold.hold_id());
  captured->set_captured(points);
  captured->set_released(released);
  captured->set_reference(hold.reference());
  *captured->mutable_balance() = balance;
  AddEntry(txn, *member, std::move(entry), std::move(event));

  txn.Put(kHoldsCf, hold.hold_id(), hold.SerializeAsString(), /*visible=*/true);
  txn.Erase(kHoldExpiryCf, HoldExpiryKey(hold.expires_at_ms(), hold.hold_id()));
  open_holds_.erase({hold.expires_at_ms(), hold.hold_id()});
  *hold.mutable_balance() = balance;
  return hold;
}

StatusOr<v1::Hold> AccrualCore::VoidHold(const v1::VoidHoldRequest& request) {
  return Idempotent<v1::Hold>(
      "VoidHold", request, request.idempotency_key(), [&](Txn& txn) -> StatusOr<v1::Hold> {
        auto loaded = LoadHold(request.hold_id());
        if (!loaded.ok()) return loaded.status();
        if (loaded->status() != v1::HOLD_STATUS_OPEN) {
          return FailedPrecondition("hold_id: hold is " + v1::HoldStatus_Name(loaded->status()));
        }
        return ReleaseHold(txn, std::move(*loaded), v1::HOLD_STATUS_VOIDED);
      });
}

int AccrualCore::ExpireHolds() {
  uint64_t ticket = 0;
  std::vector<LedgerFacts> facts;
  int expired = 0;
  {
    std::lock_guard lock(mu_);
    int64_t now = clock_.NowMs();
    Txn txn;
    while (!open_holds_.empty() && open_holds_.begin()->first <= now) {
      std::string hold_id = open_holds_.begin()->second;
      auto hold = LoadHold(hold_id);
      if (!hold.ok() || hold->status() != v1::HOLD_STATUS_OPEN) {
        open_holds_.erase(open_holds_.begin());
        continue;
      }
      ReleaseHold(txn, std::move(*hold), v1::HOLD_STATUS_EXPIRED);
      ++expired;
    }
    if (expired == 0) return 0;
    ticket = Stage(txn);
    facts = std::move(txn.facts);
  }
  Finish(ticket, facts);
  return expired;
}

StatusOr<v1::EraseMemberResponse> AccrualCore::EraseMember(const v1::EraseMemberRequest& request) {
  return Idempotent<v1::EraseMemberResponse>(
      "EraseMember", request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::EraseMemberResponse> {
        auto member = FindActiveMember("member_id", request.member_id());
        if (!member.ok()) return member.status();
        // Open holds go back first: an erased member spends nothing more.
        std::vector<v1::Hold> holds;
        for (const auto& [expires, hold_id] : open_holds_) {
          auto hold = LoadHold(hold_id);
          if (hold.ok() && hold->member_id() == request.member_id()) holds.push_back(*hold);
        }
        for (auto& hold : holds) ReleaseHold(txn, std::move(hold), v1::HOLD_STATUS_VOIDED);
        // The remembered answer to the enrollment holds the contact: forget it too.
        if (!(*member)->enroll_idempotency_key().empty()) {
          txn.Erase(kIdempotencyCf,
                    IdempotencyRecordKey("EnrollMember", (*member)->enroll_idempotency_key()));
          (*member)->clear_enroll_idempotency_key();
        }
        v1::Member& m = *(*member)->mutable_member();
        if (!m.phone().empty()) txn.Erase(kContactsCf, "phone:" + m.phone());
        if (!m.email().empty()) txn.Erase(kContactsCf, "email:" + m.email());
        m.clear_phone();
        m.clear_email();
        m.set_status(v1::MEMBER_STATUS_ERASED);
        v1::LoyaltyEvent event;
        event.mutable_member_erased();
        AddEvent(txn, **member, std::move(event));
        v1::EraseMemberResponse response;
        *response.mutable_member() = View(**member);
        return response;
      });
}

BatchResult AccrualCore::ApplyBatch(const std::vector<InputMessage>& messages) {
  StagedBatch staged = StageBatch(messages);
  FinishBatch(staged);
  return staged.result;
}

AccrualCore::StagedBatch AccrualCore::StageBatch(const std::vector<InputMessage>& messages) {
  StagedBatch staged;
  BatchResult& result = staged.result;
  std::lock_guard lock(mu_);
  Txn txn;
  std::set<TopicPartition> touched;
  for (const auto& message : messages) {
    TopicPartition tp{message.topic, message.partition};
    auto stored = offsets_.find(tp);
    if (stored != offsets_.end() && message.offset < stored->second) {
      ++result.duplicates;  // already applied: the broker sent it again
      continue;
    }
    if (message.topic == kPurchasesTopic) {
      ApplyPurchase(txn, message, result);
    } else if (message.topic == kRefundsTopic) {
      ApplyRefund(txn, message, result);
    } else if (message.topic == kActivitiesTopic) {
      ApplyActivity(txn, message, result);
    } else {
      DeadLetter(txn, message, "topic", "topic: accrual does not read " + message.topic, result);
    }
    offsets_[tp] = message.offset + 1;
    touched.insert(tp);
  }
  for (const auto& tp : touched) txn.Put(kOffsetsCf, OffsetKey(tp), EncodeI64(offsets_[tp]));
  staged.ticket = Stage(txn);
  staged.facts = std::move(txn.facts);
  return staged;
}

void AccrualCore::FinishBatch(const StagedBatch& staged) { Finish(staged.ticket, staged.facts); }

std::map<TopicPartition, int64_t> AccrualCore::StoredOffsets() const {
  std::lock_guard lock(mu_);
  return offsets_;
}

void AccrualCore::DeadLetter(Txn& txn, const InputMessage& message, const std::string& kind,
                             const std::string& reason, BatchResult& result) {
  OutboxRecord record;
  record.set_topic(message.topic + ".dlq");
  record.set_key(message.key);
  record.set_value(message.value);
  auto& headers = *record.mutable_headers();
  headers["reason"] = reason;
  headers["reason_kind"] = kind;
  headers["source_topic"] = message.topic;
  headers["source_partition"] = std::to_string(message.partition);
  headers["source_offset"] = std::to_string(message.offset);
  txn.outbox.push_back(std::move(record));
  ++result.dead_lettered[message.topic + "|" + kind];
}

Status AccrualCore::ValidatePurchase(const v1::PurchaseEvent& purchase) const {
  if (purchase.purchase_id().empty()) return InvalidArgument("purchase_id: required");
  if (!ValidId(purchase.purchase_id())) {
    return InvalidArgument("purchase_id: use 1-128 letters, digits and _ - . : @");
  }
  if (purchase.amount_minor() <= 0 || purchase.amount_minor() > config_.max_amount_minor) {
    return InvalidArgument("amount_minor: must be in 1.." +
                           std::to_string(config_.max_amount_minor));
  }
  if (purchase.currency() != config_.currency) {
    return InvalidArgument("currency: '" + purchase.currency() + "' is not the program currency " +
                           config_.currency);
  }
  if (!purchase.partner_id().empty() && config_.FindPartner(purchase.partner_id()) == nullptr) {
    return InvalidArgument("partner_id: '" + purchase.partner_id() +
                           "' is not a partner of the program");
  }
  return ValidateLines(purchase.lines());
}

void AccrualCore::ApplyPurchase(Txn& txn, const InputMessage& message, BatchResult& result) {
  v1::PurchaseEvent purchase;
  if (Status s = Decode(message.value, &purchase); !s.ok()) {
    DeadLetter(txn, message, "undecodable", s.message(), result);
    return;
  }
  if (Status invalid = ValidatePurchase(purchase); !invalid.ok()) {
    DeadLetter(txn, message, "invalid", invalid.message(), result);
    return;
  }
  std::string ignored;
  if (txn.purchases.count(purchase.purchase_id()) ||
      store_.Get(kPurchasesCf, purchase.purchase_id(), &ignored)) {
    ++result.duplicates;
    return;
  }
  int64_t now = clock_.NowMs();
  PurchaseRecord record;
  record.set_member_id(purchase.member_id());
  record.set_amount_minor(purchase.amount_minor());
  record.set_currency(purchase.currency());
  record.set_day(DayOf(now));
  record.set_partner_id(purchase.partner_id());
  if (purchase.member_id().empty()) {
    ++result.non_member_purchases;
    result.non_member_spend_minor += purchase.amount_minor();
    txn.purchases[purchase.purchase_id()] = record;
    return;
  }
  MemberRecord* member = FindMember(purchase.member_id());
  if (member == nullptr) {
    DeadLetter(txn, message, "unknown_member",
               "member_id: member '" + purchase.member_id() + "' is not enrolled", result);
    return;
  }
  if (member->member().status() == v1::MEMBER_STATUS_ERASED) {
    DeadLetter(txn, message, "erased_member",
               "member_id: member '" + purchase.member_id() + "' is erased", result);
    return;
  }

  std::vector<v1::Campaign*> applied;
  applied.reserve(campaign_order_.size());
  v1::EarnBreakdown breakdown =
      ComputeEarning(config_, *member, purchase, CampaignsByPriority(), now, &applied);
  int64_t points = breakdown.total_points();
  for (int i = 0; i < breakdown.campaigns_size(); ++i) {
    const v1::CampaignShare& share = breakdown.campaigns(i);
    v1::Campaign& campaign = *applied[i];
    campaign.set_spent_points(campaign.spent_points() + share.points());
    // Counted per member only for capped campaigns: the record is rewritten on every purchase.
    if (campaign.per_member_cap() > 0) {
      (*member->mutable_campaign_points())[share.campaign_id()] += share.points();
    }
    txn.dirty_campaigns.insert(&campaign);
  }
  v1::Balance& balance = *member->mutable_member()->mutable_balance();
  int64_t earned_before = balance.lifetime_earned();
  balance.set_lifetime_earned(balance.lifetime_earned() + points);
  v1::LedgerEntry entry;
  entry.set_kind(v1::LEDGER_KIND_EARN);
  if (config_.ReturnWindowMs() > 0) {
    // Pending through the return window; debt is repaid when the points are released.
    int64_t release_at = now + config_.ReturnWindowMs();
    balance.set_pending(balance.pending() + points);
    record.set_pending_points(points);
    record.set_release_at_ms(release_at);
    breakdown.set_pending(true);
    breakdown.set_release_at_ms(release_at);
    breakdown.set_credited(points);
    entry.set_pending_delta(points);
    AddTimer(txn, release_at, static_cast<uint8_t>(TimerKind::kReleasePending),
             purchase.member_id(), purchase.purchase_id());
  } else {
    int64_t repaid = CreditAvailable(txn, *member, points);
    breakdown.set_debt_repaid(repaid);
    breakdown.set_credited(points - repaid);
    entry.set_available_delta(points - repaid);
    entry.set_debt_delta(-repaid);
  }

  std::string reason =
      "purchase " + purchase.purchase_id() +
      (purchase.store_id().empty() ? "" : " at " + purchase.store_id()) + ": " +
      FormatPercent(breakdown.base_rate_bp()) + " (" +
      (breakdown.partner_id().empty() ? breakdown.tier() : "partner " + breakdown.partner_id()) +
      ") of " + std::to_string(purchase.amount_minor()) + " " + purchase.currency() +
      " minor units, rounded down";
  if (breakdown.campaigns_size() > 0) {
    reason += "; +" + std::to_string(points - breakdown.base_points()) + " from " +
              std::to_string(breakdown.campaigns_size()) + " campaign" +
              (breakdown.campaigns_size() > 1 ? "s" : "") + " (breakdown)";
  }
  if (breakdown.pending()) reason += "; pending until the return window ends";
  entry.set_reason(reason);
  entry.set_source_id(purchase.purchase_id());
  // The entry and the event name campaigns by id only; ListLedger adds the names.
  *entry.mutable_breakdown() = breakdown;
  std::string partner_id = breakdown.partner_id();
  v1::LoyaltyEvent event;
  auto* earned = event.mutable_points_earned();
  earned->set_purchase_id(purchase.purchase_id());
  earned->set_points(points);
  *earned->mutable_breakdown() = std::move(breakdown);
  *earned->mutable_balance() = balance;
  earned->set_store_id(purchase.store_id());
  earned->set_partner_id(purchase.partner_id());
  AddEntry(txn, *member, std::move(entry), std::move(event), partner_id);

  if (!purchase.partner_id().empty()) {
    auto& stats = partner_stats_[purchase.partner_id()];
    stats.set_points_issued(stats.points_issued() + points);
    stats.set_purchases(stats.purchases() + 1);
    txn.dirty_partners.insert(purchase.partner_id());
  }
  // Tiers: the purchase counts toward qualification; an upgrade applies at once (from the
  // next purchase on: this one earned at the rate the member had when buying).
  RecordSpend(config_, *member, record.day(), purchase.amount_minor(), 1, now);
  member->set_purchases(member->purchases() + 1);
  int qualified = QualifiedTier(config_, TierWindow(config_, *member, now));
  if (qualified > std::max(0, config_.TierIndex(member->earned_tier()))) {
    SetEarnedTier(txn, *member, qualified, "qualified");
  }
  CheckMilestones(txn, *member, /*purchase_counted=*/true, earned_before);

  record.set_points_earned(points);
  txn.purchases[purchase.purchase_id()] = record;
  ++result.purchases_applied;
  result.member_spend_minor += purchase.amount_minor();
  if (member->purchases() > 1) ++result.repeat_purchases;
  result.points_earned += points;

  // Refunds that arrived before this purchase.
  auto parked_it = txn.parked.find(purchase.purchase_id());
  ParkedRefunds parked;
  std::string stored;
  if (parked_it != txn.parked.end()) {
    parked = parked_it->second;
  } else if (store_.Get(kParkedCf, purchase.purchase_id(), &stored)) {
    parked.ParseFromString(stored);
  } else {
    return;
  }
  txn.parked[purchase.purchase_id()].clear_refunds();
  for (const auto& bytes : parked.refunds()) {
    InputMessage replay;
    replay.topic = kRefundsTopic;
    replay.partition = -1;
    replay.offset = -1;
    replay.key = purchase.member_id();
    replay.value = bytes;
    ApplyRefund(txn, replay, result);
  }
}

void AccrualCore::ApplyRefund(Txn& txn, const InputMessage& message, BatchResult& result) {
  v1::RefundEvent refund;
  if (Status s = Decode(message.value, &refund); !s.ok()) {
    DeadLetter(txn, message, "undecodable", s.message(), result);
    return;
  }
  Status invalid;
  if (!ValidId(refund.refund_id())) {
    invalid = InvalidArgument("refund_id: required, 1-128 letters, digits and _ - . : @");
  } else if (!ValidId(refund.purchase_id())) {
    invalid = InvalidArgument("purchase_id: required, 1-128 letters, digits and _ - . : @");
  } else if (refund.amount_minor() <= 0) {
    invalid = InvalidArgument("amount_minor: must be positive");
  } else {
    invalid = ValidateLines(refund.lines());
  }
  if (!invalid.ok()) {
    DeadLetter(txn, message, "invalid", invalid.message(), result);
    return;
  }
  std::string seen;
  if (txn.refunds.count(refund.refund_id()) || store_.Get(kRefundsCf, refund.refund_id(), &seen)) {
    // Seen before, unless it is a parked refund being replayed for its purchase (offset -1).
    bool replaying_parked = message.offset < 0;
    if (!replaying_parked) {
      ++result.duplicates;
      return;
    }
  }
  PurchaseRecord record;
  if (auto it = txn.purchases.find(refund.purchase_id()); it != txn.purchases.end()) {
    record = it->second;
  } else {
    std::string stored;
    if (!store_.Get(kPurchasesCf, refund.purchase_id(), &stored)) {
      // The refund overtook its purchase (another topic): keep it until the purchase comes.
      auto parked_it = txn.parked.find(refund.purchase_id());
      if (parked_it == txn.parked.end()) {
        ParkedRefunds parked;
        if (store_.Get(kParkedCf, refund.purchase_id(), &stored)) parked.ParseFromString(stored);
        parked_it = txn.parked.emplace(refund.purchase_id(), std::move(parked)).first;
      }
      parked_it->second.add_refunds(refund.SerializeAsString());
      txn.refunds[refund.refund_id()] = refund.purchase_id();
      ++result.refunds_parked;
      return;
    }
    record.ParseFromString(stored);
  }
  if (!refund.member_id().empty() && refund.member_id() != record.member_id()) {
    DeadLetter(txn, message, "invalid",
               "member_id: refund names '" + refund.member_id() + "' but purchase '" +
                   refund.purchase_id() + "' belongs to '" + record.member_id() + "'",
               result);
    return;
  }
  int64_t left = record.amount_minor() - record.refunded_minor();
  if (refund.amount_minor() > left) {
    DeadLetter(txn, message, "invalid",
               "amount_minor: refund of " + std::to_string(refund.amount_minor()) +
                   " exceeds the " + std::to_string(left) + " left of purchase '" +
                   refund.purchase_id() + "'",
               result);
    return;
  }
  ApplyRefundTo(txn, refund, record, refund.purchase_id(), result);
}

void AccrualCore::ApplyRefundTo(Txn& txn, const v1::RefundEvent& refund, PurchaseRecord& record,
                                const std::string& purchase_id, BatchResult& result) {
  int64_t claw =
      ClawbackPoints(record.points_earned(), record.amount_minor(), record.refunded_minor(),
                     refund.amount_minor(), record.points_clawed());
  record.set_refunded_minor(record.refunded_minor() + refund.amount_minor());
  record.set_points_clawed(record.points_clawed() + claw);
  // Inside the return window the points are still pending: cancel those first.
  int64_t from_pending = std::min(claw, record.pending_points());
  record.set_pending_points(record.pending_points() - from_pending);
  txn.purchases[purchase_id] = record;
  txn.refunds[refund.refund_id()] = purchase_id;
  ++result.refunds_applied;
  if (record.member_id().empty()) return;  // a non-member purchase earned nothing

  MemberRecord* member = FindMember(record.member_id());
  if (member == nullptr) return;
  int64_t now = clock_.NowMs();
  bool full_refund = record.refunded_minor() == record.amount_minor();
  RecordSpend(config_, *member, record.day(), -refund.amount_minor(), full_refund ? -1 : 0, now);
  if (!record.partner_id().empty()) {
    auto& stats = partner_stats_[record.partner_id()];
    stats.set_points_clawed_back(stats.points_clawed_back() + claw);
    txn.dirty_partners.insert(record.partner_id());
  }

  v1::Balance& balance = *member->mutable_member()->mutable_balance();
  balance.set_pending(balance.pending() - from_pending);
  int64_t rest = claw - from_pending;
  int64_t from_balance = std::min(balance.available(), rest);
  int64_t to_debt = rest - from_balance;
  DebitAvailable(*member, from_balance);
  balance.set_debt(balance.debt() + to_debt);
  balance.set_lifetime_clawed_back(balance.lifetime_clawed_back() + claw);

  v1::LedgerEntry entry;
  entry.set_kind(v1::LEDGER_KIND_CLAWBACK);
  entry.set_pending_delta(-from_pending);
  entry.set_available_delta(-from_balance);
  entry.set_debt_delta(to_debt);
  entry.set_reason(
      "refund " + refund.refund_id() + " of " + std::to_string(refund.amount_minor()) +
      " on purchase " + purchase_id +
      (from_pending > 0 ? "; " + std::to_string(from_pending) + " pending cancelled" : "") +
      (to_debt > 0 ? "; " + std::to_string(to_debt) + " owed as debt" : ""));
  entry.set_source_id(refund.refund_id());
  v1::LoyaltyEvent event;
  auto* reversed = event.mutable_points_reversed();
  reversed->set_refund_id(refund.refund_id());
  reversed->set_purchase_id(purchase_id);
  reversed->set_points(claw);
  reversed->set_from_balance(from_balance + from_pending);
  reversed->set_added_to_debt(to_debt);
  *reversed->mutable_balance() = balance;
  AddEntry(txn, *member, std::move(entry), std::move(event));
  result.points_clawed_back += claw;
}

int64_t AccrualCore::MemberCount() const {
  std::lock_guard lock(mu_);
  return member_count_;
}

int64_t AccrualCore::OpenHolds() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(open_holds_.size());
}

}  // namespace loyalty::accrual

namespace loyalty::accrual {

// --- balance moves that keep the lots equal to the available balance ---

int64_t AccrualCore::CreditAvailable(Txn& txn, MemberRecord& member, int64_t points) {
  v1::Balance& balance = *member.mutable_member()->mutable_balance();
  int64_t repaid = std::min(balance.debt(), points);
  balance.set_debt(balance.debt() - repaid);
  int64_t credit = points - repaid;
  if (credit <= 0) return repaid;
  balance.set_available(balance.available() + credit);
  int64_t now = clock_.NowMs();
  int64_t expires = LotExpiry(config_, now);
  if (AddToLot(member, expires, credit) && expires != 0) {
    const std::string& id = member.member().member_id();
    AddTimer(txn, expires, static_cast<uint8_t>(TimerKind::kExpireLot), id, EncodeI64(expires));
    int64_t remind_at = expires - config_.expiry_remind_days * kDayMs;
    if (config_.expiry_remind_days > 0 && remind_at > now) {
      AddTimer(txn, remind_at, static_cast<uint8_t>(TimerKind::kRemindLot), id, EncodeI64(expires));
    }
  }
  return repaid;
}

std::vector<v1::internal::Lot> AccrualCore::DebitAvailable(MemberRecord& member, int64_t points) {
  v1::Balance& balance = *member.mutable_member()->mutable_balance();
  balance.set_available(balance.available() - points);
  return TakeFromLots(member, points);
}

void AccrualCore::RestoreLots(Txn& txn, MemberRecord& member,
                              const std::vector<v1::internal::Lot>& lots) {
  v1::Balance& balance = *member.mutable_member()->mutable_balance();
  int64_t now = clock_.NowMs();
  for (const auto& lot : lots) {
    balance.set_available(balance.available() + lot.points());
    // A lot whose date passed while its points were held expires at the next run.
    if (AddToLot(member, lot.expires_at_ms(), lot.points()) && lot.expires_at_ms() != 0) {
      AddTimer(txn, std::max(lot.expires_at_ms(), now), static_cast<uint8_t>(TimerKind::kExpireLot),
               member.member().member_id(), EncodeI64(lot.expires_at_ms()));
    }
  }
}

void AccrualCore::AddTimer(Txn& txn, int64_t due_ms, uint8_t kind, const std::string& member_id,
                           const std::string& reference) {
  txn.Put(kTimersCf, TimerKey(due_ms, static_cast<TimerKind>(kind), member_id, reference), "");
}

// --- timed work ---

int AccrualCore::RunTimers() {
  uint64_t ticket = 0;
  std::vector<LedgerFacts> facts;
  int ran = 0;
  {
    std::lock_guard lock(mu_);
    int64_t now = clock_.NowMs();
    std::string upper;
    keys::AppendI64(upper, now + 1);
    struct Due {
      std::string key;
      int64_t due;
      uint8_t kind;
      std::string member_id;
      std::string reference;
    };
    std::vector<Due> due;
    store_.Scan(kTimersCf, "", upper, [&](std::string_view key, std::string_view) {
      Due d;
      d.key = std::string(key);
      d.due = keys::ReadI64(key);
      d.kind = static_cast<uint8_t>(key[8]);
      size_t pos = 9;
      keys::ReadString(key, pos, d.member_id);
      keys::ReadString(key, pos, d.reference);
      due.push_back(std::move(d));
      return due.size() < 20'000;
    });
    if (due.empty()) return 0;
    Txn txn;
    for (const auto& d : due) {
      RunTimer(txn, d.due, d.kind, d.member_id, d.reference);
      txn.Erase(kTimersCf, d.key);
      ++ran;
    }
    ticket = Stage(txn);
    facts = std::move(txn.facts);
  }
  Finish(ticket, facts);
  return ran;
}

void AccrualCore::RunTimer(Txn& txn, int64_t due_ms, uint8_t kind, const std::string& member_id,
                           const std::string& reference) {
  MemberRecord* member = FindMember(member_id);
  if (member == nullptr) return;
  v1::Balance& balance = *member->mutable_member()->mutable_balance();
  int64_t now = clock_.NowMs();
  switch (static_cast<TimerKind>(kind)) {
    case TimerKind::kReleasePending: {
      PurchaseRecord record;
      if (auto it = txn.purchases.find(reference); it != txn.purchases.end()) {
        record = it->second;
      } else {
        std::string stored;
        if (!store_.Get(kPurchasesCf, reference, &stored)) return;
        record.ParseFromString(stored);
      }
      int64_t points = record.pending_points();
      if (points <= 0) return;  // refunded inside the window
      record.set_pending_points(0);
      txn.purchases[reference] = record;
      balance.set_pending(balance.pending() - points);
      int64_t repaid = CreditAvailable(txn, *member, points);
      v1::LedgerEntry entry;
      entry.set_kind(v1::LEDGER_KIND_PENDING_RELEASE);
      entry.set_pending_delta(-points);
      entry.set_available_delta(points - repaid);
      entry.set_debt_delta(-repaid);
      entry.set_reason("points of purchase " + reference + " released after the return window" +
                       (repaid > 0 ? "; " + std::to_string(repaid) + " repaid debt" : ""));
      entry.set_source_id(reference);
      v1::LoyaltyEvent event;
      auto* released = event.mutable_pending_released();
      released->set_purchase_id(reference);
      released->set_points(points);
      *released->mutable_balance() = balance;
      AddEntry(txn, *member, std::move(entry), std::move(event));
      return;
    }
    case TimerKind::kExpireLot: {
      int64_t expires = keys::ReadI64(reference);
      int64_t points = RemoveLot(*member, expires);
      if (points <= 0) return;
      balance.set_available(balance.available() - points);
      balance.set_lifetime_expired(balance.lifetime_expired() + points);
      v1::LedgerEntry entry;
      entry.set_kind(v1::LEDGER_KIND_EXPIRE);
      entry.set_available_delta(-points);
      entry.set_reason("points expired (credited until " + std::to_string(expires) + ")");
      entry.set_source_id("expiry");
      v1::LoyaltyEvent event;
      auto* expired = event.mutable_points_expired();
      expired->set_points(points);
      expired->set_lot_expires_at_ms(expires);
      *expired->mutable_balance() = balance;
      AddEntry(txn, *member, std::move(entry), std::move(event));
      return;
    }
    case TimerKind::kRemindLot: {
      int64_t expires = keys::ReadI64(reference);
      int64_t points = LotPoints(*member, expires);
      if (points <= 0 || member->member().status() == v1::MEMBER_STATUS_ERASED) return;
      v1::LoyaltyEvent event;
      auto* soon = event.mutable_points_expiring_soon();
      soon->set_points(points);
      soon->set_expires_at_ms(expires);
      *soon->mutable_balance() = balance;
      AddEvent(txn, *member, std::move(event));
      return;
    }
    case TimerKind::kTierReview: {
      if (due_ms != member->tier_review_at_ms()) return;  // superseded by a later review
      int current = std::max(0, config_.TierIndex(member->earned_tier()));
      int qualified = QualifiedTier(config_, TierWindow(config_, *member, now));
      if (qualified > current) {
        SetEarnedTier(txn, *member, qualified, "evaluation");
      } else if (qualified == current) {
        member->set_in_grace(false);
        member->set_tier_review_at_ms(now + config_.tier_review_days * kDayMs);
        AddTimer(txn, member->tier_review_at_ms(), kind, member_id, "");
        txn.dirty_members.insert(member);
      } else if (!member->in_grace()) {
        member->set_in_grace(true);
        member->set_tier_review_at_ms(now + config_.tier_grace_days * kDayMs);
        AddTimer(txn, member->tier_review_at_ms(), kind, member_id, "");
        txn.dirty_members.insert(member);
      } else {
        SetEarnedTier(txn, *member, current - 1, "evaluation");  // one tier at a time
      }
      return;
    }
    case TimerKind::kMembershipEnd: {
      if (due_ms != member->paid_until_ms()) return;  // extended since
      member->clear_paid_tier();
      txn.dirty_members.insert(member);
      UpdateEffectiveTier(txn, *member, "membership_ended");
      return;
    }
  }
}

// --- tiers and milestones ---

void AccrualCore::SetEarnedTier(Txn& txn, MemberRecord& member, int tier_index,
                                const std::string& cause) {
  int64_t now = clock_.NowMs();
  member.set_earned_tier(config_.tiers[tier_index].name);
  member.set_in_grace(false);
  if (tier_index > 0) {
    member.set_tier_review_at_ms(now + config_.tier_review_days * kDayMs);
    AddTimer(txn, member.tier_review_at_ms(), static_cast<uint8_t>(TimerKind::kTierReview),
             member.member().member_id(), "");
  } else {
    member.set_tier_review_at_ms(0);
  }
  txn.dirty_members.insert(&member);
  UpdateEffectiveTier(txn, member, cause);
}

void AccrualCore::UpdateEffectiveTier(Txn& txn, MemberRecord& member, const std::string& cause) {
  int earned = std::max(0, config_.TierIndex(member.earned_tier()));
  int effective = earned;
  if (!member.paid_tier().empty() && member.paid_until_ms() > clock_.NowMs()) {
    effective = std::max(effective, config_.TierIndex(member.paid_tier()));
  }
  const std::string& from = member.member().tier();
  const std::string& to = config_.tiers[effective].name;
  if (from == to) return;
  bool upgrade = effective > config_.TierIndex(from);
  v1::LoyaltyEvent event;
  auto* changed = event.mutable_tier_changed();
  changed->set_from_tier(from);
  changed->set_to_tier(to);
  changed->set_upgrade(upgrade);
  changed->set_cause(cause);
  changed->set_next_evaluation_at_ms(member.tier_review_at_ms());
  member.mutable_member()->set_tier(to);
  AddEvent(txn, member, std::move(event));
  if (upgrade) ReachMilestone(txn, member, "tier_" + to);
}

void AccrualCore::CheckMilestones(Txn& txn, MemberRecord& member, bool purchase_counted,
                                  int64_t earned_before) {
  // Only thresholds crossed by this change: the hot path must not rescan every milestone.
  if (purchase_counted) {
    for (int64_t n : config_.purchase_milestones) {
      if (member.purchases() != n) continue;
      if (n == 1) {
        ReachMilestone(txn, member, "first_purchase");
      } else {
        ReachMilestone(txn, member, "purchases_" + std::to_string(n));
      }
    }
  }
  int64_t earned = member.member().balance().lifetime_earned();
  for (int64_t n : config_.points_milestones) {
    if (earned_before < n && earned >= n) {
      ReachMilestone(txn, member, "points_" + std::to_string(n));
    }
  }
}

void AccrualCore::ReachMilestone(Txn& txn, MemberRecord& member, const std::string& id) {
  for (const auto& badge : member.member().badges()) {
    if (badge.id() == id) return;
  }
  const std::string title = BadgeTitle(id);
  // Stored without the title (the record is rewritten on every purchase); View adds it.
  v1::Badge* badge = member.mutable_member()->add_badges();
  badge->set_id(id);
  badge->set_reached_at_ms(clock_.NowMs());
  int64_t bonus = 0;
  if (auto it = config_.milestone_bonus.find(id); it != config_.milestone_bonus.end()) {
    bonus = it->second;
  }
  v1::LoyaltyEvent event;
  auto* reached = event.mutable_milestone_reached();
  reached->set_milestone_id(id);
  reached->set_title(title);
  reached->set_bonus_points(bonus);
  AddEvent(txn, member, std::move(event));
  if (bonus <= 0) return;
  v1::Balance& balance = *member.mutable_member()->mutable_balance();
  int64_t repaid = CreditAvailable(txn, member, bonus);
  balance.set_lifetime_earned(balance.lifetime_earned() + bonus);
  v1::LedgerEntry entry;
  entry.set_kind(v1::LEDGER_KIND_MILESTONE);
  entry.set_available_delta(bonus - repaid);
  entry.set_debt_delta(-repaid);
  entry.set_reason("milestone: " + title);
  entry.set_source_id(id);
  v1::LoyaltyEvent awarded_event;
  auto* awarded = awarded_event.mutable_points_awarded();
  awarded->set_points(bonus);
  awarded->set_reason("milestone: " + title);
  awarded->set_source("milestone");
  *awarded->mutable_balance() = balance;
  AddEntry(txn, member, std::move(entry), std::move(awarded_event), "milestone");
}

// --- campaigns ---

const std::vector<v1::Campaign*>& AccrualCore::CampaignsByPriority() {
  // Rebuilt only when a campaign is saved: the order is read for every purchase.
  if (!campaign_order_valid_) {
    campaign_order_.clear();
    for (auto& [id, c] : campaigns_) {
      if (!c.ended()) campaign_order_.push_back(&c);
    }
    std::stable_sort(
        campaign_order_.begin(), campaign_order_.end(),
        [](const v1::Campaign* a, const v1::Campaign* b) { return a->priority() > b->priority(); });
    campaign_order_valid_ = true;
  }
  return campaign_order_;
}

void AccrualCore::AddCampaignNames(v1::EarnBreakdown& breakdown) const {
  for (auto& share : *breakdown.mutable_campaigns()) {
    if (auto it = campaigns_.find(share.campaign_id()); it != campaigns_.end()) {
      share.set_name(it->second.name());
    }
  }
}

namespace {

Status ValidateCampaign(const v1::Campaign& c) {
  if (c.name().empty()) return InvalidArgument("campaign.name: required");
  switch (c.effect()) {
    case v1::CAMPAIGN_EFFECT_MULTIPLIER:
      if (c.value() <= 10'000 || c.value() > 1'000'000) {
        return InvalidArgument(
            "campaign.value: a multiplier is in basis points above 10000 "
            "(20000 doubles)");
      }
      break;
    case v1::CAMPAIGN_EFFECT_FIXED_BONUS:
    case v1::CAMPAIGN_EFFECT_LINE_BONUS:
      if (c.value() <= 0 || c.value() > 1'000'000'000) {
        return InvalidArgument("campaign.value: must be positive");
      }
      break;
    default:
      return InvalidArgument("campaign.effect: required");
  }
  if (c.ends_at_ms() != 0 && c.ends_at_ms() <= c.starts_at_ms()) {
    return InvalidArgument("campaign.ends_at_ms: must be after starts_at_ms");
  }
  if (c.budget_points() < 0) return InvalidArgument("campaign.budget_points: must be >= 0");
  if (c.per_member_cap() < 0) return InvalidArgument("campaign.per_member_cap: must be >= 0");
  if (c.min_basket_minor() < 0) return InvalidArgument("campaign.min_basket_minor: must be >= 0");
  return Status::Ok();
}

}  // namespace

StatusOr<v1::Campaign> AccrualCore::SaveCampaign(Txn& txn, v1::Campaign campaign,
                                                 const std::string& action,
                                                 const std::string& actor) {
  int64_t now = clock_.NowMs();
  campaign.set_updated_by(actor);
  campaign.set_updated_at_ms(now);
  v1::Campaign& saved = campaigns_[campaign.campaign_id()];
  saved = campaign;
  txn.dirty_campaigns.insert(&saved);
  campaign_order_valid_ = false;
  v1::CampaignAudit audit;
  audit.set_campaign_id(campaign.campaign_id());
  audit.set_action(action);
  audit.set_actor(actor);
  audit.set_at_ms(now);
  *audit.mutable_campaign() = campaign;
  std::string key;
  keys::AppendString(key, campaign.campaign_id());
  keys::AppendI64(key, now);
  keys::AppendU64(key, audit_sequence_++);
  txn.Put(kCampaignAuditCf, key, audit.SerializeAsString());
  return campaign;
}

StatusOr<v1::Campaign> AccrualCore::CreateCampaign(const v1::CreateCampaignRequest& request) {
  return Idempotent<v1::Campaign>(
      "CreateCampaign", request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::Campaign> {
        if (request.actor().empty()) return InvalidArgument("actor: required");
        v1::Campaign c = request.campaign();
        if (Status s = ValidateCampaign(c); !s.ok()) return s;
        if (c.campaign_id().empty()) {
          c.set_campaign_id(NewId("c", clock_.NowMs()));
        } else if (!ValidId(c.campaign_id())) {
          return InvalidArgument("campaign.campaign_id: use 1-128 letters, digits and _ - . : @");
        } else if (campaigns_.count(c.campaign_id())) {
          return AlreadyExists("campaign.campaign_id: '" + c.campaign_id() + "' exists");
        }
        c.set_spent_points(0);
        c.set_ended(false);
        c.set_created_by(request.actor());
        c.set_created_at_ms(clock_.NowMs());
        return SaveCampaign(txn, std::move(c), "created", request.actor());
      });
}

StatusOr<v1::Campaign> AccrualCore::UpdateCampaign(const v1::UpdateCampaignRequest& request) {
  return Idempotent<v1::Campaign>(
      "UpdateCampaign", request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::Campaign> {
        if (request.actor().empty()) return InvalidArgument("actor: required");
        auto it = campaigns_.find(request.campaign().campaign_id());
        if (it == campaigns_.end()) {
          return NotFound("campaign.campaign_id: '" + request.campaign().campaign_id() +
                          "' not found");
        }
        if (it->second.ended()) return FailedPrecondition("campaign.campaign_id: campaign ended");
        v1::Campaign c = request.campaign();
        if (Status s = ValidateCampaign(c); !s.ok()) return s;
        if (c.budget_points() > 0 && c.budget_points() < it->second.spent_points()) {
          return InvalidArgument("campaign.budget_points: below the " +
                                 std::to_string(it->second.spent_points()) + " already spent");
        }
        if (c.per_member_cap() > 0 && it->second.per_member_cap() == 0 &&
            it->second.spent_points() > 0) {
          // Members' points are counted only while a campaign has a cap (see decisions.md).
          return FailedPrecondition(
              "campaign.per_member_cap: cannot be added once the campaign has issued points; "
              "end it and create a capped one");
        }
        c.set_spent_points(it->second.spent_points());
        c.set_ended(false);
        c.set_created_by(it->second.created_by());
        c.set_created_at_ms(it->second.created_at_ms());
        return SaveCampaign(txn, std::move(c), "updated", request.actor());
      });
}

StatusOr<v1::Campaign> AccrualCore::EndCampaign(const v1::EndCampaignRequest& request) {
  return Idempotent<v1::Campaign>(
      "EndCampaign", request, request.idempotency_key(), [&](Txn& txn) -> StatusOr<v1::Campaign> {
        if (request.actor().empty()) return InvalidArgument("actor: required");
        auto it = campaigns_.find(request.campaign_id());
        if (it == campaigns_.end()) {
          return NotFound("campaign_id: '" + request.campaign_id() + "' not found");
        }
        v1::Campaign c = it->second;
        c.set_ended(true);
        return SaveCampaign(txn, std::move(c), "ended", request.actor());
      });
}

StatusOr<v1::Campaign> AccrualCore::GetCampaign(const std::string& campaign_id) {
  std::lock_guard lock(mu_);
  auto it = campaigns_.find(campaign_id);
  if (it == campaigns_.end()) return NotFound("campaign_id: '" + campaign_id + "' not found");
  return it->second;
}

v1::ListCampaignsResponse AccrualCore::ListCampaigns(bool include_ended) {
  std::lock_guard lock(mu_);
  v1::ListCampaignsResponse response;
  for (const auto& [id, c] : campaigns_) {
    if (include_ended || !c.ended()) *response.add_campaigns() = c;
  }
  return response;
}

StatusOr<v1::ListCampaignAuditResponse> AccrualCore::ListCampaignAudit(
    const std::string& campaign_id) {
  if (campaign_id.empty()) return InvalidArgument("campaign_id: required");
  std::string prefix;
  keys::AppendString(prefix, campaign_id);
  v1::ListCampaignAuditResponse response;
  store_.Scan(kCampaignAuditCf, prefix, "", [&](std::string_view key, std::string_view value) {
    if (key.substr(0, prefix.size()) != prefix) return false;
    response.add_entries()->ParseFromArray(value.data(), static_cast<int>(value.size()));
    return true;
  });
  return response;
}

// --- members: segments, paid membership, simulation, partners ---

StatusOr<v1::Member> AccrualCore::SetMemberSegments(const v1::SetMemberSegmentsRequest& request) {
  return Idempotent<v1::Member>(
      "SetMemberSegments", request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::Member> {
        for (const auto& segment : request.segments()) {
          if (!ValidId(segment)) {
            return InvalidArgument("segments: '" + segment +
                                   "' must be 1-128 letters, digits and _ - . : @");
          }
        }
        auto member = FindActiveMember("member_id", request.member_id());
        if (!member.ok()) return member.status();
        *(*member)->mutable_member()->mutable_segments() = request.segments();
        txn.dirty_members.insert(*member);
        return View(**member);
      });
}

StatusOr<v1::Member> AccrualCore::PurchaseMembership(const v1::PurchaseMembershipRequest& request) {
  return Idempotent<v1::Member>(
      "PurchaseMembership", request, request.idempotency_key(),
      [&](Txn& txn) -> StatusOr<v1::Member> {
        int index = config_.TierIndex(request.tier());
        if (index < 0) return InvalidArgument("tier: '" + request.tier() + "' is not a tier");
        if (request.days() <= 0 || request.days() > 3660) {
          return InvalidArgument("days: must be in 1..3660");
        }
        auto member = FindActiveMember("member_id", request.member_id());
        if (!member.ok()) return member.status();
        MemberRecord& m = **member;
        int64_t now = clock_.NowMs();
        // Buying the same tier again extends it; another tier starts a new period.
        int64_t start = m.paid_tier() == request.tier() ? std::max(now, m.paid_until_ms()) : now;
        m.set_paid_tier(request.tier());
        m.set_paid_until_ms(start + request.days() * kDayMs);
        AddTimer(txn, m.paid_until_ms(), static_cast<uint8_t>(TimerKind::kMembershipEnd),
                 request.member_id(), "");
        txn.dirty_members.insert(&m);
        UpdateEffectiveTier(txn, m, "membership_purchased");
        return View(m);
      });
}

StatusOr<v1::SimulatePurchaseResponse> AccrualCore::SimulatePurchase(
    const v1::PurchaseEvent& purchase) {
  std::lock_guard lock(mu_);
  if (Status s = ValidatePurchase(purchase); !s.ok()) return s;
  auto member = FindActiveMember("member_id", purchase.member_id());
  if (!member.ok()) return member.status();
  v1::SimulatePurchaseResponse response;
  *response.mutable_breakdown() =
      ComputeEarning(config_, **member, purchase, CampaignsByPriority(), clock_.NowMs());
  AddCampaignNames(*response.mutable_breakdown());
  response.set_points(response.breakdown().total_points());
  response.set_member_tier((*member)->member().tier());
  return response;
}

v1::ListPartnerStatsResponse AccrualCore::ListPartnerStats() {
  std::lock_guard lock(mu_);
  v1::ListPartnerStatsResponse response;
  for (const auto& [id, stats] : partner_stats_) *response.add_partners() = stats;
  return response;
}

// --- activities ---

void AccrualCore::ApplyActivity(Txn& txn, const InputMessage& message, BatchResult& result) {
  v1::ActivityEvent activity;
  if (Status s = Decode(message.value, &activity); !s.ok()) {
    DeadLetter(txn, message, "undecodable", s.message(), result);
    return;
  }
  if (!ValidId(activity.activity_id())) {
    DeadLetter(txn, message, "invalid",
               "activity_id: required, 1-128 letters, digits and _ - . : @", result);
    return;
  }
  const ActivityRule* rule = config_.FindActivity(activity.type());
  if (rule == nullptr) {
    DeadLetter(txn, message, "invalid", "type: no rule for activity type '" + activity.type() + "'",
               result);
    return;
  }
  std::string seen;
  if (txn.activities.count(activity.activity_id()) ||
      store_.Get(kActivitiesCf, activity.activity_id(), &seen)) {
    ++result.duplicates;
    return;
  }
  MemberRecord* member = FindMember(activity.member_id());
  if (member == nullptr || member->member().status() == v1::MEMBER_STATUS_ERASED) {
    DeadLetter(txn, message, member == nullptr ? "unknown_member" : "erased_member",
               "member_id: member '" + activity.member_id() + "' is not an active member", result);
    return;
  }
  txn.activities.insert(activity.activity_id());
  txn.Put(kActivitiesCf, activity.activity_id(), "", /*visible=*/true);
  ++result.activities_applied;

  std::string object_key;
  if (rule->once_per_object) {
    object_key = ActivityObjectKey(activity.member_id(), activity.type(), activity.object_id());
    if (txn.activity_objects.count(object_key) ||
        store_.Get(kActivityObjectsCf, object_key, &seen)) {
      return;  // rewarded for this object before
    }
  }
  int64_t now = clock_.NowMs();
  int64_t day = DayOf(activity.occurred_at_ms() > 0 ? activity.occurred_at_ms() : now);
  auto* days = member->mutable_activity_days();
  for (int i = days->size() - 1; i >= 0; --i) {
    if (days->Get(i).day() < DayOf(now) - 1) days->DeleteSubrange(i, 1);  // caps are daily
  }
  v1::internal::ActivityDay* today = nullptr;
  for (auto& d : *days) {
    if (d.type() == activity.type() && d.day() == day) today = &d;
  }
  if (today == nullptr) {
    today = days->Add();
    today->set_type(activity.type());
    today->set_day(day);
  }
  int64_t points = rule->points;
  if (rule->daily_cap > 0) points = std::min(points, rule->daily_cap - today->points());
  txn.dirty_members.insert(member);
  if (points <= 0) return;  // the day's cap is reached; the object may earn another day
  today->set_points(today->points() + points);
  if (!object_key.empty()) {
    txn.activity_objects.insert(object_key);
    txn.Put(kActivityObjectsCf, object_key, activity.activity_id(), /*visible=*/true);
  }
  v1::Balance& balance = *member->mutable_member()->mutable_balance();
  int64_t earned_before = balance.lifetime_earned();
  int64_t repaid = CreditAvailable(txn, *member, points);
  balance.set_lifetime_earned(balance.lifetime_earned() + points);
  v1::LedgerEntry entry;
  entry.set_kind(v1::LEDGER_KIND_ACTIVITY);
  entry.set_available_delta(points - repaid);
  entry.set_debt_delta(-repaid);
  entry.set_reason(activity.type() +
                   (activity.object_id().empty() ? "" : " of " + activity.object_id()));
  entry.set_source_id(activity.activity_id());
  v1::LoyaltyEvent event;
  auto* rewarded = event.mutable_activity_rewarded();
  rewarded->set_activity_id(activity.activity_id());
  rewarded->set_activity_type(activity.type());
  rewarded->set_points(points);
  *rewarded->mutable_balance() = balance;
  AddEntry(txn, *member, std::move(entry), std::move(event), "activity");
  CheckMilestones(txn, *member, /*purchase_counted=*/false, earned_before);
}

}  // namespace loyalty::accrual
