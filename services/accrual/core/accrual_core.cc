#include "services/accrual/core/accrual_core.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>

#include "common/ids.h"
#include "common/key_codec.h"
#include "services/accrual/core/contact.h"
#include "services/accrual/core/earning.h"

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
constexpr char kMemberCountKey[] = "member_count";

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

std::string OffsetKey(const TopicPartition& tp) {
  std::string key;
  keys::AppendString(key, tp.first);
  keys::AppendU64(key, static_cast<uint64_t>(tp.second));
  return key;
}

std::string EncodeI64(int64_t v) {
  std::string out;
  keys::AppendI64(out, v);
  return out;
}

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
    if (!status.ok()) return InvalidArgument("not valid JSON for " + message->GetTypeName() + ": " +
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

// Credits points, repaying debt first. Returns the part that repaid debt.
int64_t Credit(v1::Balance& balance, int64_t points) {
  int64_t repaid = std::min(balance.debt(), points);
  balance.set_debt(balance.debt() - repaid);
  balance.set_available(balance.available() + points - repaid);
  return repaid;
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

}  // namespace

std::vector<std::string> AccrualColumnFamilies() {
  return {kMembersCf,     kContactsCf,  kLedgerCf,      kPurchasesCf,
          kRefundsCf,     kParkedCf,    kHoldsCf,       kHoldExpiryCf,
          kIdempotencyCf, kOffsetsCf,   kMetaCf,        kOutboxCf};
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
  std::set<std::string> dirty_members;
  std::unordered_map<std::string, PurchaseRecord> purchases;  // applied in this batch
  std::unordered_map<std::string, std::string> refunds;       // refund_id -> purchase_id
  std::unordered_map<std::string, ParkedRefunds> parked;      // by purchase_id
  bool member_count_changed = false;
  std::vector<LedgerFacts> facts;

  void Put(const char* cf, std::string key, std::string value, bool visible = false) {
    ops.push_back({cf, std::move(key), std::move(value), visible, false});
  }
  void Erase(const char* cf, std::string key) { ops.push_back({cf, std::move(key), "", false, true}); }
};

AccrualCore::AccrualCore(Store& store, Outbox& outbox, const Clock& clock, AccrualConfig config)
    : store_(store), outbox_(outbox), clock_(clock), config_(std::move(config)) {
  std::string value;
  if (store_.Get(kMetaCf, kMemberCountKey, &value)) member_count_ = keys::ReadI64(value);
  store_.Scan(kHoldExpiryCf, "", "", [&](std::string_view key, std::string_view) {
    open_holds_.emplace(keys::ReadI64(key), std::string(key.substr(8)));
    return true;
  });
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
  txn.dirty_members.insert(member_id);
}

v1::LedgerEntry AccrualCore::AddEntry(Txn& txn, MemberRecord& member, v1::LedgerEntry entry,
                                      v1::LoyaltyEvent event, std::string source) {
  LedgerFacts facts{entry.kind(), 0, std::move(source)};
  switch (entry.kind()) {
    case v1::LEDGER_KIND_EARN: facts.points = entry.breakdown().base_points(); break;
    case v1::LEDGER_KIND_CLAWBACK: facts.points = entry.debt_delta() - entry.available_delta(); break;
    case v1::LEDGER_KIND_HOLD: facts.points = entry.held_delta(); break;
    case v1::LEDGER_KIND_CAPTURE: facts.points = -entry.held_delta() - entry.available_delta(); break;
    case v1::LEDGER_KIND_VOID:
    case v1::LEDGER_KIND_HOLD_EXPIRED: facts.points = entry.available_delta(); break;
    default: facts.points = entry.available_delta() - entry.debt_delta(); break;
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
    for (const auto& id : txn.dirty_members) {
      write.Put(kMembersCf, id, members_.at(id).SerializeAsString());
    }
    for (const auto& [id, record] : txn.purchases) {
      write.Put(kPurchasesCf, id, record.SerializeAsString());
    }
    for (const auto& [refund_id, purchase_id] : txn.refunds) {
      write.Put(kRefundsCf, refund_id, purchase_id);
    }
    for (const auto& [purchase_id, parked] : txn.parked) {
      if (parked.refunds_size() == 0) {
        write.Delete(kParkedCf, purchase_id);
      } else {
        write.Put(kParkedCf, purchase_id, parked.SerializeAsString());
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
StatusOr<Response> AccrualCore::Idempotent(const char* method, const Request& request,
                                           const std::string& key,
                                           const std::function<StatusOr<Response>(Txn&)>& apply) {
  if (key.empty()) return InvalidArgument("idempotency_key: required");
  if (key.size() > 256) return InvalidArgument("idempotency_key: longer than 256 characters");
  std::string dedupe_key;
  keys::AppendString(dedupe_key, method);
  keys::AppendString(dedupe_key, key);
  std::string request_bytes = request.SerializeAsString();
  uint64_t ticket = 0;
  Response response;
  std::vector<LedgerFacts> facts;
  {
    std::lock_guard lock(mu_);
    std::string stored;
    if (store_.Get(kIdempotencyCf, dedupe_key, &stored)) {
      IdempotencyRecord record;
      record.ParseFromString(stored);
      if (record.request() != request_bytes) {
        return AlreadyExists("idempotency_key: '" + key + "' was already used with other arguments");
      }
      response.ParseFromString(record.response());
      ticket = store_.Stage([](StagedWrite&) {});  // answer only once the first call is durable
    } else {
      Txn txn;
      StatusOr<Response> result = apply(txn);
      if (!result.ok()) return result.status();
      response = std::move(*result);
      IdempotencyRecord record;
      record.set_request(request_bytes);
      record.set_response(response.SerializeAsString());
      txn.Put(kIdempotencyCf, dedupe_key, record.SerializeAsString(), /*visible=*/true);
      ticket = Stage(txn);
      facts = std::move(txn.facts);
    }
  }
  Finish(ticket, facts);
  return response;
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
        std::string language = request.language().empty() ? config_.default_language
                                                           : request.language();
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
          Credit(*member.mutable_balance(), bonus);
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
        return member;
      });
}

StatusOr<v1::Member> AccrualCore::GetMember(const std::string& member_id) {
  std::lock_guard lock(mu_);
  if (member_id.empty()) return InvalidArgument("member_id: required");
  MemberRecord* member = FindMember(member_id);
  if (member == nullptr) return NotFound("member_id: member '" + member_id + "' not found");
  return member->member();
}

StatusOr<v1::GetBalanceResponse> AccrualCore::GetBalance(const std::string& member_id) {
  auto member = GetMember(member_id);
  if (!member.ok()) return member.status();
  v1::GetBalanceResponse response;
  response.set_member_id(member->member_id());
  response.set_tier(member->tier());
  *response.mutable_balance() = member->balance();
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
  store_.ScanBackward(kLedgerCf, LedgerPrefix(request.member_id()), before,
                      [&](std::string_view, std::string_view value) {
                        if (response.entries_size() == page_size) {
                          response.set_next_page_token(std::to_string(
                              response.entries(response.entries_size() - 1).sequence()));
                          return false;
                        }
                        response.add_entries()->ParseFromArray(value.data(),
                                                               static_cast<int>(value.size()));
                        return true;
                      });
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
        int64_t repaid = Credit(balance, request.points());
        balance.set_lifetime_earned(balance.lifetime_earned() + request.points());
        v1::LedgerEntry entry;
        entry.set_kind(v1::LEDGER_KIND_AWARD);
        entry.set_available_delta(request.points() - repaid);
        entry.set_debt_delta(-repaid);
        entry.set_reason(request.reason());
        entry.set_source_id(request.source().empty() ? request.idempotency_key()
                                                     : request.source() + ":" +
                                                           request.idempotency_key());
        v1::LoyaltyEvent event;
        auto* awarded = event.mutable_points_awarded();
        awarded->set_points(request.points());
        awarded->set_reason(request.reason());
        awarded->set_source(request.source());
        *awarded->mutable_balance() = balance;
        return AddEntry(txn, **member, std::move(entry), std::move(event), request.source());
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
          balance.set_available(balance.available() - from_balance);
          balance.set_debt(balance.debt() + take - from_balance);
          entry.set_available_delta(-from_balance);
          entry.set_debt_delta(take - from_balance);
        } else {
          int64_t repaid = Credit(balance, request.delta());
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

StatusOr<v1::Hold> AccrualCore::HoldPoints(const v1::HoldPointsRequest& request) {
  return Idempotent<v1::Hold>(
      "HoldPoints", request, request.idempotency_key(), [&](Txn& txn) -> StatusOr<v1::Hold> {
        if (request.points() <= 0 || request.points() > kMaxPointsPerCall) {
          return InvalidArgument("points: must be positive");
        }
        int64_t ttl = request.ttl_seconds() == 0 ? config_.default_hold_ttl_seconds
                                                 : request.ttl_seconds();
        if (ttl < 0 || ttl > config_.max_hold_ttl_seconds) {
          return InvalidArgument("ttl_seconds: must be in 0.." +
                                 std::to_string(config_.max_hold_ttl_seconds));
        }
        auto member = FindActiveMember("member_id", request.member_id());
        if (!member.ok()) return member.status();
        v1::Balance& balance = *(*member)->mutable_member()->mutable_balance();
        if (request.points() > balance.available()) {
          return FailedPrecondition("points: " + std::to_string(request.points()) +
                                    " requested but only " +
                                    std::to_string(balance.available()) + " available");
        }
        balance.set_available(balance.available() - request.points());
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
        txn.Put(kHoldExpiryCf, HoldExpiryKey(hold.expires_at_ms(), hold.hold_id()), "");
        open_holds_.emplace(hold.expires_at_ms(), hold.hold_id());
        *hold.mutable_balance() = balance;
        return hold;
      });
}

v1::Hold AccrualCore::ReleaseHold(Txn& txn, v1::Hold hold, v1::HoldStatus status) {
  MemberRecord* member = FindMember(hold.member_id());
  v1::Balance& balance = *member->mutable_member()->mutable_balance();
  balance.set_held(balance.held() - hold.points());
  balance.set_available(balance.available() + hold.points());
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
  auto result = Idempotent<v1::Hold>(
      "CaptureHold", request, request.idempotency_key(), [&](Txn& txn) -> StatusOr<v1::Hold> {
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
        balance.set_available(balance.available() + released);
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
      });
  if (expired_now) ExpireHolds();  // the expiry is a change of its own, made durable now
  return result;
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
        *response.mutable_member() = m;
        return response;
      });
}

BatchResult AccrualCore::ApplyBatch(const std::vector<KafkaMessage>& messages) {
  BatchResult result;
  uint64_t ticket = 0;
  std::vector<LedgerFacts> facts;
  {
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
      } else {
        DeadLetter(txn, message, "topic", "topic: accrual does not read " + message.topic,
                   result);
      }
      offsets_[tp] = message.offset + 1;
      touched.insert(tp);
    }
    for (const auto& tp : touched) txn.Put(kOffsetsCf, OffsetKey(tp), EncodeI64(offsets_[tp]));
    ticket = Stage(txn);
    facts = std::move(txn.facts);
  }
  Finish(ticket, facts);
  return result;
}

std::map<TopicPartition, int64_t> AccrualCore::StoredOffsets() const {
  std::lock_guard lock(mu_);
  return offsets_;
}

void AccrualCore::DeadLetter(Txn& txn, const KafkaMessage& message, const std::string& kind,
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

void AccrualCore::ApplyPurchase(Txn& txn, const KafkaMessage& message, BatchResult& result) {
  v1::PurchaseEvent purchase;
  if (Status s = Decode(message.value, &purchase); !s.ok()) {
    DeadLetter(txn, message, "undecodable", s.message(), result);
    return;
  }
  Status invalid;
  if (purchase.purchase_id().empty()) {
    invalid = InvalidArgument("purchase_id: required");
  } else if (!ValidId(purchase.purchase_id())) {
    invalid = InvalidArgument("purchase_id: use 1-128 letters, digits and _ - . : @");
  } else if (purchase.amount_minor() <= 0 || purchase.amount_minor() > config_.max_amount_minor) {
    invalid = InvalidArgument("amount_minor: must be in 1.." +
                              std::to_string(config_.max_amount_minor));
  } else if (purchase.currency() != config_.currency) {
    invalid = InvalidArgument("currency: '" + purchase.currency() +
                              "' is not the program currency " + config_.currency);
  } else {
    invalid = ValidateLines(purchase.lines());
  }
  if (!invalid.ok()) {
    DeadLetter(txn, message, "invalid", invalid.message(), result);
    return;
  }
  std::string ignored;
  if (txn.purchases.count(purchase.purchase_id()) ||
      store_.Get(kPurchasesCf, purchase.purchase_id(), &ignored)) {
    ++result.duplicates;
    return;
  }
  PurchaseRecord record;
  record.set_member_id(purchase.member_id());
  record.set_amount_minor(purchase.amount_minor());
  record.set_currency(purchase.currency());
  if (purchase.member_id().empty()) {
    ++result.non_member_purchases;
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

  const TierRule& tier = TierOf(*member);
  int64_t points =
      BasePoints(purchase.amount_minor(), tier.earn_rate_bp, config_.minor_units_per_point);
  v1::Balance& balance = *member->mutable_member()->mutable_balance();
  int64_t repaid = Credit(balance, points);
  balance.set_lifetime_earned(balance.lifetime_earned() + points);

  v1::EarnBreakdown breakdown;
  breakdown.set_amount_minor(purchase.amount_minor());
  breakdown.set_currency(purchase.currency());
  breakdown.set_tier(tier.name);
  breakdown.set_base_rate_bp(tier.earn_rate_bp);
  breakdown.set_base_points(points);
  breakdown.set_debt_repaid(repaid);
  breakdown.set_credited(points - repaid);

  v1::LedgerEntry entry;
  entry.set_kind(v1::LEDGER_KIND_EARN);
  entry.set_available_delta(points - repaid);
  entry.set_debt_delta(-repaid);
  entry.set_reason("purchase " + purchase.purchase_id() +
                   (purchase.store_id().empty() ? "" : " at " + purchase.store_id()) + ": " +
                   FormatPercent(tier.earn_rate_bp) + " (" + tier.name + ") of " +
                   std::to_string(purchase.amount_minor()) + " " + purchase.currency() +
                   " minor units, rounded down");
  entry.set_source_id(purchase.purchase_id());
  *entry.mutable_breakdown() = breakdown;
  v1::LoyaltyEvent event;
  auto* earned = event.mutable_points_earned();
  earned->set_purchase_id(purchase.purchase_id());
  earned->set_points(points);
  *earned->mutable_breakdown() = breakdown;
  *earned->mutable_balance() = balance;
  earned->set_store_id(purchase.store_id());
  earned->set_partner_id(purchase.partner_id());
  AddEntry(txn, *member, std::move(entry), std::move(event));

  record.set_points_earned(points);
  txn.purchases[purchase.purchase_id()] = record;
  ++result.purchases_applied;
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
    KafkaMessage replay;
    replay.topic = kRefundsTopic;
    replay.partition = -1;
    replay.offset = -1;
    replay.key = purchase.member_id();
    replay.value = bytes;
    ApplyRefund(txn, replay, result);
  }
}

void AccrualCore::ApplyRefund(Txn& txn, const KafkaMessage& message, BatchResult& result) {
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
  int64_t claw = ClawbackPoints(record.points_earned(), record.amount_minor(),
                                record.refunded_minor(), refund.amount_minor(),
                                record.points_clawed());
  record.set_refunded_minor(record.refunded_minor() + refund.amount_minor());
  record.set_points_clawed(record.points_clawed() + claw);
  txn.purchases[purchase_id] = record;
  txn.refunds[refund.refund_id()] = purchase_id;
  ++result.refunds_applied;
  if (record.member_id().empty()) return;  // a non-member purchase earned nothing

  MemberRecord* member = FindMember(record.member_id());
  if (member == nullptr) return;
  v1::Balance& balance = *member->mutable_member()->mutable_balance();
  int64_t from_balance = std::min(balance.available(), claw);
  int64_t to_debt = claw - from_balance;
  balance.set_available(balance.available() - from_balance);
  balance.set_debt(balance.debt() + to_debt);
  balance.set_lifetime_clawed_back(balance.lifetime_clawed_back() + claw);

  v1::LedgerEntry entry;
  entry.set_kind(v1::LEDGER_KIND_CLAWBACK);
  entry.set_available_delta(-from_balance);
  entry.set_debt_delta(to_debt);
  entry.set_reason("refund " + refund.refund_id() + " of " +
                   std::to_string(refund.amount_minor()) + " on purchase " + purchase_id +
                   (to_debt > 0 ? "; " + std::to_string(to_debt) + " owed as debt" : ""));
  entry.set_source_id(refund.refund_id());
  v1::LoyaltyEvent event;
  auto* reversed = event.mutable_points_reversed();
  reversed->set_refund_id(refund.refund_id());
  reversed->set_purchase_id(purchase_id);
  reversed->set_points(claw);
  reversed->set_from_balance(from_balance);
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
